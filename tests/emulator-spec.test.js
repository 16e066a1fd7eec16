// The emulator enforces Twilio's published API (emulator/openapi.js over emulator/twilio-oai.json):
// what the definitions do not declare is refused with 400 and Twilio's error shape, through the
// real `twilio` client where it can send it, and over raw HTTP where twilio-node would drop it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const openapi = require('../emulator/openapi');
const extract = require('../emulator/twilio-oai.json');
const { USED } = require('../scripts/extract-twilio-oai');
const { emulatorClient } = require('./helpers/emulator-client');

let emu;
let client;
let env;
before(async () => {
  emu = await startEmulator({ port: 0, allowViolations: true });
  client = emulatorClient(emu);
  env = emu.functionEnv();
});
after(() => emu.close());

const rejects = async (promise) => {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the request to fail');
};

/** A raw request to the emulator, as a Twilio host would receive it. */
async function raw(method, host, path, { query, form, json } = {}) {
  const headers = {
    Authorization: `Basic ${Buffer.from(`${env.ACCOUNT_SID}:${env.AUTH_TOKEN}`).toString('base64')}`,
    'X-Forwarded-Host': host,
  };
  let body;
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  } else if (json) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const qs = query ? `?${new URLSearchParams(query)}` : '';
  const res = await fetch(`${emu.origin}${path}${qs}`, { method, headers, body });
  return { status: res.status, body: await res.json().catch(() => null) };
}

const twilioError = (body) => {
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'more_info', 'status']);
  assert.equal(body.status, 400);
  assert.equal(body.code, 20001);
  assert.equal(body.more_info, 'https://www.twilio.com/docs/errors/20001');
};

test('the extract records the twilio-oai commit it came from and covers every path the generator lists', () => {
  assert.match(extract.source.commit, /^[0-9a-f]{40}$/);
  for (const [file, paths] of Object.entries(USED)) {
    assert.deepEqual(Object.keys(extract.products[file].paths), paths, `${file} in emulator/twilio-oai.json matches USED (rerun scripts/extract-twilio-oai.js)`);
  }
  // The Sync limit the product owner gives (pages of at most 100) is the spec's declared maximum.
  const items = extract.products.sync_v1.paths['/v1/Services/{ServiceSid}/Maps/{MapSid}/Items'].methods.GET;
  assert.equal(items.query.find((p) => p.name === 'PageSize').maximum, 100);
});

test('every Twilio route the emulator serves is declared by the definitions or listed as an exception', () => {
  const undeclared = [];
  for (const r of emu.router.routes) {
    if (r.control) continue;
    const path = r.pattern.replace(/:([a-z]+)/g, (m, name) => (name === 'account' ? env.ACCOUNT_SID : `X${name}`));
    const found = openapi.findOperation(r.method, path, r.product);
    if (found.problem) undeclared.push(`${r.method} ${r.product} ${r.pattern}: ${found.problem}`);
  }
  assert.deepEqual(undeclared, []);
  for (const ex of openapi.EXCEPTIONS) assert.match(ex.source, /\S{10,}/, 'every exception names the source of its shape');
});

test('a correct request is accepted, through the real client', async () => {
  const svc = client.sync.v1.services(env.SYNC_SERVICE_SID);
  await svc.syncMaps.create({ uniqueName: 'Spec.Accepted' });
  await svc.syncMaps('Spec.Accepted').syncMapItems.create({ key: 'k', data: { ok: true } });
  const items = await svc.syncMaps('Spec.Accepted').syncMapItems.list({ pageSize: 100 });
  assert.deepEqual(
    items.map((i) => i.key),
    ['k'],
  );
  const ok = await raw('GET', 'sync.twilio.com', `/v1/Services/${env.SYNC_SERVICE_SID}/Maps/Spec.Accepted/Items`, { query: { PageSize: '100', Order: 'asc' } });
  assert.equal(ok.status, 200);
});

test('an over-maximum PageSize is refused: Sync lists take at most 100, TaskRouter lists 1000', async () => {
  const svc = client.sync.v1.services(env.SYNC_SERVICE_SID);
  const err = await rejects(svc.syncMaps('Spec.Accepted').syncMapItems.list({ pageSize: 1000 }));
  assert.equal(err.status, 400);
  assert.equal(err.code, 20001);
  assert.match(err.message, /PageSize is 1000, above its maximum 100/);

  const tr = await rejects(client.taskrouter.v1.workspaces(env.WORKSPACE_SID).taskQueues.list({ pageSize: 1001 }));
  assert.equal(tr.status, 400);
  assert.match(tr.message, /PageSize is 1001, above its maximum 1000/);
  assert.ok(await client.taskrouter.v1.workspaces(env.WORKSPACE_SID).taskQueues.list({ pageSize: 1000 }), '1000 is allowed on TaskRouter');

  const notInt = await raw('GET', 'sync.twilio.com', `/v1/Services/${env.SYNC_SERVICE_SID}/Maps`, { query: { PageSize: '10.5' } });
  assert.equal(notInt.status, 400);
  assert.match(notInt.body.message, /PageSize must be an integer/);
});

test('a parameter the operation does not declare is refused (raw HTTP: twilio-node would drop it)', async () => {
  // Workers/CumulativeStatistics takes no queue; history asked it with TaskQueueSid.
  const path = `/v1/Workspaces/${env.WORKSPACE_SID}/Workers/CumulativeStatistics`;
  const r = await raw('GET', 'taskrouter.twilio.com', path, { query: { TaskQueueSid: `WQ${'0'.repeat(32)}` } });
  assert.equal(r.status, 400);
  twilioError(r.body);
  assert.match(r.body.message, /query parameter TaskQueueSid is not declared for this operation/);
  assert.equal((await raw('GET', 'taskrouter.twilio.com', path, { query: { Minutes: '60' } })).status, 200);

  // A misspelt form field on a call update.
  const call = await raw('POST', 'api.twilio.com', `/2010-04-01/Accounts/${env.ACCOUNT_SID}/Calls/CA${'1'.repeat(32)}.json`, { form: { Twimll: '<Response/>' } });
  assert.equal(call.status, 400);
  twilioError(call.body);
  assert.match(call.body.message, /form parameter Twimll is not declared/);

  // The client sends only declared names, but a value of the wrong type still fails.
  const svc = client.sync.v1.services(env.SYNC_SERVICE_SID);
  const ttl = await rejects(svc.syncMaps('Spec.Accepted').syncMapItems.create({ key: 't', data: {}, ttl: 'soon' }));
  assert.equal(ttl.status, 400);
  assert.match(ttl.message, /Ttl must be an integer/);

  assert.ok(
    emu.violations.some((v) => /TaskQueueSid/.test(v.message)),
    'refusals are kept in emulator.violations',
  );
  const listed = await fetch(`${emu.origin}/emulator/violations`).then((res) => res.json());
  assert.ok(listed.violations.length >= 3);
});

test('an unknown path, a method not declared, or a path of another product is refused', async () => {
  const unknown = await raw('GET', 'taskrouter.twilio.com', `/v1/Workspaces/${env.WORKSPACE_SID}/Workers/Nonsense/Stuff`);
  assert.equal(unknown.status, 400);
  twilioError(unknown.body);
  assert.match(unknown.body.message, /no such path in Twilio's API definitions/);

  const method = await raw('DELETE', 'taskrouter.twilio.com', `/v1/Workspaces/${env.WORKSPACE_SID}/Workers/CumulativeStatistics`);
  assert.equal(method.status, 400);
  assert.match(method.body.message, /method not declared \(declared: GET\)/);

  // Sync has no Builds; Serverless does: the host decides.
  const wrongProduct = await raw('GET', 'sync.twilio.com', `/v1/Services/${env.SYNC_SERVICE_SID}/Builds`);
  assert.equal(wrongProduct.status, 400);
  assert.match(wrongProduct.body.message, /no such path/);
});

test('exceptions: IAM token validation takes only {token} as JSON', async () => {
  const path = `/v1/Accounts/${env.ACCOUNT_SID}/Tokens/validate`;
  const { token } = emu.makeToken({ identity: 'spec' });
  const ok = await raw('POST', 'iam.twilio.com', path, { json: { token } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.valid, true);
  const extra = await raw('POST', 'iam.twilio.com', path, { json: { token, roles: 'admin' } });
  assert.equal(extra.status, 400);
  assert.match(extra.body.message, /roles is not declared/);
});

test('closing the emulator fails the process when a request was refused, even if its caller caught the 400', async () => {
  const strict = await startEmulator({ port: 0 });
  const e = strict.functionEnv();
  const res = await fetch(`${strict.origin}/v1/Services/${e.SYNC_SERVICE_SID}/Maps?PageSize=500`, {
    headers: { Authorization: `Basic ${Buffer.from(`${e.ACCOUNT_SID}:${e.AUTH_TOKEN}`).toString('base64')}`, 'X-Forwarded-Host': 'sync.twilio.com' },
  });
  assert.equal(res.status, 400);
  assert.match(strict.violationReport(), /refused 1 request\(s\)[\s\S]*PageSize is 500, above its maximum 100/);
  const before = process.exitCode;
  await strict.close();
  assert.equal(process.exitCode, 1, 'the test file fails');
  process.exitCode = before; // this test's refusal was deliberate
});

test("a parameter twilio-node would drop silently is refused too: the functions' client names it to the emulator", async () => {
  const root = require('path').resolve(__dirname, '..');
  global.Runtime = global.Runtime || {
    getFunctions: () => Object.fromEntries(['http', 'deadline', 'wasm'].map((n) => [`common/${n}`, { path: `${root}/functions/common/${n}.private.js` }])),
    getAssets: () => ({}), // the wasm glue (requireEnv's alias table) then reads its module beside it
  };
  const tw = require('../functions/common/client.private.js');
  const ws = tw.twilioClient(env).taskrouter.v1.workspaces(env.WORKSPACE_SID);
  // History asked Workers/CumulativeStatistics per queue; the operation takes no queue.
  const err = await rejects(ws.workers.cumulativeStatistics().fetch({ minutes: 60, taskQueueSid: `WQ${'0'.repeat(32)}` }));
  assert.equal(err.status, 400);
  assert.match(err.message, /given taskQueueSid, which this operation does not declare/);
  const ok = await ws.workers.cumulativeStatistics().fetch({ minutes: 60, taskChannel: undefined });
  assert.equal(typeof ok.activityDurations, 'object', 'declared parameters (and undefined ones) pass');
});
