// The emulator's Serverless API through the real `twilio` client and multipart uploads: builds move
// from building to completed (or failed by fault injection), deployments need a completed build of
// the same service and change the environment's build, uploads keep their bytes.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const { emulatorClient } = require('./helpers/emulator-client');

let emu;
let client;
let svc;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  emu = await startEmulator({ port: 0 });
  emu.ctx.state.serverless.buildMs = 200;
  client = emulatorClient(emu);
  svc = client.serverless.v1.services(emu.functionEnv().SERVICE_SID);
});
after(() => emu.close());

async function upload(assetSid, fields) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${emu.origin}/v1/Services/${emu.functionEnv().SERVICE_SID}/Assets/${assetSid}/Versions`, {
    method: 'POST',
    headers: { 'X-Forwarded-Host': 'serverless-upload.twilio.com', Authorization: `Basic ${Buffer.from(`${emu.ctx.accountSid}:${emu.ctx.authToken}`).toString('base64')}` },
    body: form,
  });
  return { status: res.status, body: await res.json() };
}

test('the seeded service and environment are found by SID and unique name', async () => {
  const service = await svc.fetch();
  assert.equal(service.uniqueName, 'flex-contact-center');
  const byName = await client.serverless.v1.services('flex-contact-center').fetch();
  assert.equal(byName.sid, service.sid);
  const env = await svc.environments(emu.functionEnv().ENVIRONMENT_SID).fetch();
  assert.equal(env.domainSuffix, 'dev');
  assert.equal(env.buildSid, null);
});

test('uploads keep their bytes; builds complete or fail; deployments need a completed build', async () => {
  const asset = await svc.assets.create({ friendlyName: 'logo' });
  const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45]);
  const version = await upload(asset.sid, { Path: '/logo.png', Visibility: 'public', Content: new Blob([bytes], { type: 'image/png' }) });
  assert.equal(version.status, 201);
  assert.ok(emu.ctx.state.serverless.assetVersions.get(version.body.sid).content.equals(bytes));
  assert.equal((await upload(asset.sid, { Path: '/x', Visibility: 'secret', Content: 'x' })).status, 400);
  assert.equal((await upload(asset.sid, { Path: '/x', Content: 'x' })).status, 400);

  const build = await svc.builds.create({ assetVersions: [version.body.sid], runtime: 'node22', dependencies: JSON.stringify([{ name: 'twilio', version: '6.2.0' }]) });
  assert.equal(build.status, 'building');
  await assert.rejects(svc.environments(emu.functionEnv().ENVIRONMENT_SID).deployments.create({ buildSid: build.sid }), (e) => e.status === 400);
  await sleep(250);
  assert.equal((await svc.builds(build.sid).buildStatus().fetch()).status, 'completed');
  const dep = await svc.environments(emu.functionEnv().ENVIRONMENT_SID).deployments.create({ buildSid: build.sid });
  assert.equal(dep.buildSid, build.sid);
  assert.equal((await svc.environments(emu.functionEnv().ENVIRONMENT_SID).fetch()).buildSid, build.sid);
  const fetched = await svc.builds(build.sid).fetch();
  assert.deepEqual(fetched.dependencies, [{ name: 'twilio', version: '6.2.0' }]);
  assert.equal(fetched.assetVersions[0].path, '/logo.png');

  emu.ctx.state.serverless.buildFaults = 1;
  const failing = await svc.builds.create({ assetVersions: [version.body.sid] });
  await sleep(250);
  assert.equal((await svc.builds(failing.sid).buildStatus().fetch()).status, 'failed');
  assert.equal(failing.runtime, 'node18', 'a build without Runtime gets the platform default');
  await assert.rejects(svc.builds.create({ assetVersions: ['ZN' + '0'.repeat(32)] }), (e) => e.status === 400);
  await assert.rejects(
    svc
      .builds('ZB' + '0'.repeat(32))
      .buildStatus()
      .fetch(),
    (e) => e.status === 404,
  );
});
