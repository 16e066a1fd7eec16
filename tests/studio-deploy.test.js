// The import-ready Studio flows (studio/): `npm run deploy -- --studio` against the emulator fills
// them with the deployed service's URL and SIDs, validates them with Studio's FlowValidate and
// creates them; a second run updates the same flows. The emulator's Studio checks a definition's
// shape (states, transitions to existing states, widget types and events, required properties).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('child_process');
const fs = require('fs');
const path = require('path');
const { startEmulator } = require('../emulator');
const { root } = require('./helpers/runtime');
const { emulatorClient } = require('./helpers/emulator-client');
const { deployFlows, FLOWS } = require('../scripts/studio-flows');

const WORKFLOW = 'WW' + '1'.repeat(32);
const CHANNEL = 'TC' + '2'.repeat(32);
let emu;
before(async () => {
  emu = await startEmulator({ port: 0 });
});
after(() => emu && emu.close());

function deploy(extra = {}) {
  const env = { ...process.env, ...emu.functionEnv(), STUDIO_WORKFLOW_SID: WORKFLOW, STUDIO_VOICE_CHANNEL_SID: CHANNEL, ...extra };
  // Asynchronous: the emulator answering the deploy lives in this process.
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'deploy', '--', '--studio', '--no-fetch-config'], { cwd: root, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, out: `${stdout}${stderr}` }),
    );
  });
}

const flows = () => emulatorClient(emu).studio.v2.flows.list();
const state = (definition, name) => definition.states.find((s) => s.name === name);

test('npm run deploy -- --studio creates both flows filled and valid, and a second run updates them', async () => {
  const first = await deploy();
  assert.equal(first.code, 0, first.out);
  let all = await flows();
  assert.deepEqual(all.map((f) => f.friendlyName).sort(), FLOWS.map((f) => f.friendlyName).sort());
  const domain = [...emu.ctx.state.serverless.environments.values()].find((e) => e.sid === emu.functionEnv().ENVIRONMENT_SID).domain_name;
  const functionSid = (p) => [...emu.ctx.state.serverless.functions.values()].find((f) => f.friendly_name.replace(/^\//, '') === p).sid;
  for (const f of all) {
    assert.equal(f.revision, 1);
    assert.equal(f.status, 'published');
    assert.doesNotMatch(JSON.stringify(f.definition), /%%/, 'every placeholder filled');
  }
  const ivr = all.find((f) => f.friendlyName === 'Direct extension IVR').definition;
  assert.equal(state(ivr, 'check_extension').properties.url, `https://${domain}/direct-extension`);
  assert.equal(state(ivr, 'check_extension').properties.function_sid, functionSid('direct-extension'));
  assert.equal(state(ivr, 'check_extension').properties.service_sid, emu.functionEnv().SERVICE_SID);
  assert.equal(state(ivr, 'send_to_agent').properties.workflow, WORKFLOW);
  assert.equal(state(ivr, 'send_to_agent').properties.channel, CHANNEL);
  assert.match(state(ivr, 'to_voicemail').properties.url, new RegExp(`^https://${domain}/voicemail-twiml\\?workerSid=`));
  const attributes = JSON.parse(state(ivr, 'send_to_agent').properties.attributes.replace(/\{\{[^}]+\}\}/g, 'x'));
  assert.deepEqual(Object.keys(attributes.directCall), ['extension', 'workerSid', 'workerName']);
  assert.equal(attributes.isDirectCall, true, 'the flag the workflow filter matches');
  assert.equal(state(ivr, 'check_attempts').transitions.find((t) => t.event === 'match').conditions[0].value, '3');
  const hours = all.find((f) => f.friendlyName === 'Business hours').definition;
  assert.equal(state(hours, 'check_schedule').properties.url, `https://${domain}/check-schedule`);
  assert.deepEqual(state(hours, 'check_schedule').properties.parameters, [{ key: 'name', value: 'Support' }]);
  assert.match(state(hours, 'closed_until').properties.say, /widgets\.check_schedule\.parsed\.nextChange/);
  const validations = emu.requests.filter((r) => r.path === '/v2/Flows/Validate');
  assert.equal(validations.length, 2, 'each flow validated before it is written');
  assert.ok(validations.every((r) => r.status === 200));

  const second = await deploy({ STUDIO_SCHEDULE_NAME: 'Sales' });
  assert.equal(second.code, 0, second.out);
  assert.match(second.out, /updated Studio flow "Business hours"/);
  all = await flows();
  assert.equal(all.length, 2, 'no new flow');
  assert.ok(all.every((f) => f.revision === 2));
  assert.deepEqual(state(all.find((f) => f.friendlyName === 'Business hours').definition, 'check_schedule').properties.parameters, [{ key: 'name', value: 'Sales' }]);
});

test('a missing workflow SID stops before any Studio request', async () => {
  const from = emu.requests.length;
  const env = { ...emu.functionEnv(), STUDIO_VOICE_CHANNEL_SID: CHANNEL };
  const service = {
    domain: 'x.twil.io',
    serviceSid: 'ZS' + '0'.repeat(32),
    environmentSid: 'ZE' + '0'.repeat(32),
    functions: [
      { path: '/direct-extension', sid: 'ZH1' },
      { path: '/check-schedule', sid: 'ZH2' },
    ],
  };
  await assert.rejects(deployFlows(env, { service, log: () => {} }), /STUDIO_WORKFLOW_SID must be a WW… SID/);
  assert.equal(emu.requests.slice(from).filter((r) => r.product === 'studio').length, 0);
});

test("Studio's validation refuses a broken definition, naming what is wrong", async () => {
  const studio = emulatorClient(emu).studio.v2;
  const good = JSON.parse(fs.readFileSync(path.join(root, 'studio', 'business-hours.json'), 'utf8'));
  assert.deepEqual(await studio.flowValidate.update({ friendlyName: 'ok', status: 'draft', definition: good }).then((r) => r.valid), true);
  const broken = JSON.parse(JSON.stringify(good));
  broken.states.find((s) => s.name === 'is_open').transitions[0].next = 'nowhere';
  broken.states.find((s) => s.name === 'closed').type = 'say-something';
  delete broken.states.find((s) => s.name === 'check_schedule').properties.url;
  broken.initial_state = 'Start';
  const err = await studio.flowValidate.update({ friendlyName: 'bad', status: 'draft', definition: broken }).then(
    () => null,
    (e) => e,
  );
  assert.ok(err, 'refused');
  assert.equal(err.status, 400);
  const paths = err.details.errors.map((e) => e.property_path).sort();
  assert.deepEqual(paths, ['#/initial_state', '#/states/1/properties/url', '#/states/2/transitions/0/next', '#/states/5/type'].sort(), JSON.stringify(err.details));
  await assert.rejects(studio.flows.create({ friendlyName: 'bad', status: 'draft', definition: broken }), (e) => e.status === 400);
});
