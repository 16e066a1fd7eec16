// /staffing and /wallboard-token end to end: the real twilio-run, the real wasm, the emulator.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers/stack');
const { sid } = require('./helpers/emulator-client');
const { verifyToken } = require('../emulator/sync-live');

const KEY = 'wallboard-key-' + 'k'.repeat(40);
let stack;
let tokens;

before(async () => {
  stack = await startStack({ env: { WALLBOARD_KEY: KEY, STAFFING_DEFAULT_AHT_SECONDS: '180' } });
  const make = (identity, roles) => stack.emu.makeToken({ identity, roles }).token;
  tokens = { agent: make('al', ['agent']), supervisor: make('sue', ['supervisor']), admin: make('ada', ['admin']) };
});
after(() => stack && stack.stop());

async function call(path, { method = 'GET', auth, body } = {}) {
  const headers = { ...(auth ? { Authorization: auth } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) };
  const res = await fetch(stack.rt.url(path), { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json() };
}
const wallboard = { auth: `Wallboard ${KEY}` };

test('GET and POST /staffing reproduce the reference figures', async () => {
  let r = await call('/staffing?callsPerInterval=100&intervalMinutes=30&ahtSeconds=180&thresholdSeconds=20&target=80&shrinkage=30%25', wallboard);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.intensityErlangs, 10);
  assert.equal(r.body.agents, 14);
  assert.equal(r.body.scheduledAgents, 20);
  assert.ok(Math.abs(r.body.serviceLevel - 0.88835) < 5e-6);
  assert.ok(Math.abs(r.body.probabilityOfWaiting - 0.1741319) < 5e-8);
  assert.ok(Math.abs(r.body.asaSeconds - 7.836) < 5e-4);
  assert.ok(Math.abs(r.body.occupancy - 10 / 14) < 1e-12);
  r = await call('/staffing', { method: 'POST', auth: `Bearer ${tokens.agent}`, body: { callsPerInterval: 100, ahtSeconds: 180, maxOccupancy: 0.7, agents: 13 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.agents, 15);
  assert.ok(Math.abs(r.body.withAgents.probabilityOfWaiting - 0.2852705) < 5e-8);
  assert.ok(Math.abs(r.body.withAgents.serviceLevel - 0.79559) < 5e-6);
  assert.ok(Math.abs(r.body.withAgents.asaSeconds - 17.116) < 5e-4);
  r = await call('/staffing', { method: 'POST', body: { Token: tokens.agent, callsPerInterval: '100', ahtSeconds: '180', agents: '10' } });
  assert.equal(r.status, 200);
  assert.equal(r.body.withAgents.enoughAgents, false);
  assert.equal(r.body.withAgents.asaSeconds, null, 'not enough agents: no finite wait, never a negative one');
});

test('/staffing answers 400 naming each bad parameter', async () => {
  const cases = [
    ['ahtSeconds=180', 'callsPerInterval', 'missing_parameter'],
    ['callsPerInterval=100&ahtSeconds=0', 'ahtSeconds', 'out_of_range'], // without ahtSeconds, STAFFING_DEFAULT_AHT_SECONDS applies
    ['callsPerInterval=many&ahtSeconds=180', 'callsPerInterval', 'not_a_number'],
    ['callsPerInterval=-3&ahtSeconds=180', 'callsPerInterval', 'out_of_range'],
    ['callsPerInterval=100&ahtSeconds=180&intervalMinutes=0', 'intervalMinutes', 'out_of_range'],
    ['callsPerInterval=100&ahtSeconds=180&intervalMinutes=1e-300', 'intervalMinutes', 'out_of_range'], // was callsPerInterval's too_much_traffic
    ['callsPerInterval=100&ahtSeconds=180&target=100', 'target', 'out_of_range'],
    ['callsPerInterval=100&ahtSeconds=180&maxOccupancy=1.5x', 'maxOccupancy', 'not_a_number'],
    ['callsPerInterval=100&ahtSeconds=180&shrinkage=99', 'shrinkage', 'out_of_range'],
    ['callsPerInterval=100&ahtSeconds=180&thresholdSeconds=-1', 'thresholdSeconds', 'out_of_range'],
    ['callsPerInterval=100&ahtSeconds=180&agents=1.5', 'agents', 'out_of_range'],
    ['callsPerInterval=10000000&intervalMinutes=1&ahtSeconds=86400', 'callsPerInterval', 'too_much_traffic'],
    ['queueSid=WQ123', 'queueSid', undefined],
  ];
  for (const [query, parameter, code] of cases) {
    const r = await call(`/staffing?${query}`, wallboard);
    assert.equal(r.status, 400, `${query}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.parameter, parameter, query);
    if (code) assert.equal(r.body.code, code, query);
    assert.match(r.body.error, new RegExp(parameter), query);
  }
});

test('/staffing for a queue reads its last 30 minutes of arrivals from TaskRouter', async () => {
  const q = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Staffed' })).sid;
  for (let i = 0; i < 100; i += 1) await stack.control('POST', `/emulator/taskqueues/${q}/tasks/${sid('WT')}/entered`, {});
  let r = await call(`/staffing?queueSid=${q}`, wallboard);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.sources, { arrivals: 'taskrouter', handleTime: 'configured' });
  assert.equal(r.body.callsPerInterval, 100);
  assert.equal(r.body.agents, 14);
  r = await call(`/staffing?queueSid=${q}&ahtSeconds=360`, wallboard);
  assert.deepEqual(r.body.sources, { arrivals: 'taskrouter', handleTime: 'request' });
  assert.equal(r.body.intensityErlangs, 20);
  r = await call(`/staffing?queueSid=WQ${'0'.repeat(32)}`, wallboard);
  assert.equal(r.status, 404, 'an unknown queue is TaskRouter\'s 404, passed through');
});

test('/staffing and /wallboard-token refuse missing or wrong credentials', async () => {
  assert.equal((await call('/staffing?callsPerInterval=1&ahtSeconds=1')).status, 403);
  assert.equal((await call('/staffing?callsPerInterval=1&ahtSeconds=1', { auth: 'Wallboard nope' })).status, 403);
  assert.equal((await call('/wallboard-token', { method: 'POST' })).status, 403);
  assert.equal((await call('/wallboard-token', { method: 'POST', auth: 'Wallboard wrong-key-of-some-length-xxxxxxxxxxxxxxxxx' })).status, 403);
  const agent = await call('/wallboard-token', { method: 'POST', auth: `Bearer ${tokens.agent}` });
  assert.equal(agent.status, 403);
  assert.match(agent.body.error, /supervisor/);
});

test('/wallboard-token mints a short-lived Sync token for the key, a supervisor or an admin', async () => {
  for (const [auth, identity] of [[`Wallboard ${KEY}`, 'wallboard-key'], [`Bearer ${tokens.supervisor}`, 'wallboard:sue'], [`Bearer ${tokens.admin}`, 'wallboard:ada']]) {
    const r = await call('/wallboard-token', { method: 'POST', auth });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.identity, identity);
    assert.equal(r.body.ttlSeconds, 3600);
    assert.equal(r.body.layout, 'map');
    assert.deepEqual(r.body.acl, { enforced: false, objects: [] });
    const claims = verifyToken(stack.emu.ctx, `Bearer ${r.body.token}`); // signed with API_SECRET, Sync grant
    assert.equal(claims.identity, identity);
    assert.equal(claims.serviceSid, stack.emu.functionEnv().SYNC_SERVICE_SID);
    assert.ok(claims.expMs - Date.now() <= 3600 * 1000 + 2000);
  }
});

test('where the Sync service enforces ACL, the token identity gets read-only permission on the statistics map', async () => {
  await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Acl' }); // creates the queueStats map
  await stack.control('POST', '/emulator/sync/acl', { enabled: true });
  try {
    const r = await call('/wallboard-token', { method: 'POST', auth: `Wallboard ${KEY}` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.acl, { enforced: true, objects: ['map:queueStats'] });
    const perms = stack.emu.snapshot().syncLive.permissions;
    const granted = Object.entries(perms).filter(([k]) => k.endsWith('|wallboard-key'));
    assert.equal(granted.length, 1);
    assert.deepEqual(granted[0][1], { read: true, write: false, manage: false });
  } finally {
    await stack.control('POST', '/emulator/sync/acl', { enabled: false });
  }
});
