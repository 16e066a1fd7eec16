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

/**
 * `n` tasks enter queue `q` in TaskRouter. Their events are not delivered: what these tests read
 * is TaskRouter's statistics, and a callback per task (the queue statistics' writer) only costs
 * time.
 */
async function arrivals(q, n) {
  await stack.control('POST', '/emulator/event-callback', { url: null });
  try {
    for (let i = 0; i < n; i += 1) await stack.control('POST', `/emulator/taskqueues/${q}/tasks/${sid('WT')}/entered`, {});
  } finally {
    await stack.control('POST', '/emulator/event-callback', { url: stack.rt.url('/realtimestats-updateQueueStatistics') });
  }
}

test('/staffing for a queue reads its last 30 minutes of arrivals from TaskRouter', async () => {
  const q = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Staffed' })).sid;
  await arrivals(q, 100);
  let r = await call(`/staffing?queueSid=${q}`, wallboard);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.sources, { arrivals: 'taskrouter', handleTime: 'configured' });
  assert.equal(r.body.callsPerInterval, 100);
  assert.equal(r.body.agents, 14);
  r = await call(`/staffing?queueSid=${q}&ahtSeconds=360`, wallboard);
  assert.deepEqual(r.body.sources, { arrivals: 'taskrouter', handleTime: 'request' });
  assert.equal(r.body.intensityErlangs, 20);
  r = await call(`/staffing?queueSid=WQ${'0'.repeat(32)}`, wallboard);
  assert.equal(r.status, 404, "an unknown queue is TaskRouter's 404, passed through");
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

test("/wallboard-token mints a short-lived read-only Sync token on the board service, never on Flex's", async () => {
  const env = stack.emu.functionEnv();
  assert.notEqual(env.WALLBOARD_SYNC_SID, env.TWILIO_FLEX_SYNC_SID);
  for (const [auth, viewer, via] of [
    [`Wallboard ${KEY}`, 'wallboard-key', 'wallboardKey'],
    [`Bearer ${tokens.supervisor}`, 'sue', 'flex'],
    [`Bearer ${tokens.admin}`, 'ada', 'flex'],
  ]) {
    const r = await call('/wallboard-token', { method: 'POST', auth });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.identity, 'wallboard-reader');
    assert.equal(r.body.viewer, viewer);
    assert.equal(r.body.via, via);
    assert.equal(r.body.ttlSeconds, 3600);
    assert.equal(r.body.layout, 'map');
    assert.deepEqual(r.body.acl, { enabled: true, identity: 'wallboard-reader', read: true, write: false, manage: false });
    const claims = verifyToken(stack.emu.ctx, `Bearer ${r.body.token}`); // signed with API_SECRET, Sync grant
    assert.equal(claims.identity, 'wallboard-reader');
    assert.equal(claims.serviceSid, env.WALLBOARD_SYNC_SID, 'the grant names the board service only');
    assert.equal(r.body.serviceSid, env.WALLBOARD_SYNC_SID);
    assert.ok(claims.expMs - Date.now() <= 3600 * 1000 + 2000);
  }
});

test("/wallboard-token refuses to mint on a board service with ACL off, or on Flex's own service", async () => {
  const board = stack.emu.functionEnv().WALLBOARD_SYNC_SID;
  await stack.control('POST', '/emulator/sync/acl', { service: board, enabled: false });
  try {
    const r = await call('/wallboard-token', { method: 'POST', auth: `Wallboard ${KEY}` });
    assert.equal(r.status, 500);
    assert.match(r.body.error, /WALLBOARD_SYNC_SID .* has ACL off/);
  } finally {
    await stack.control('POST', '/emulator/sync/acl', { service: board, enabled: true });
  }
  const { startRuntime } = require('./helpers/runtime');
  const env = stack.emu.functionEnv();
  const rt = await startRuntime({ env: { ...env, WALLBOARD_KEY: KEY, WALLBOARD_SYNC_SID: env.TWILIO_FLEX_SYNC_SID } });
  try {
    const res = await fetch(rt.url('/wallboard-token'), { method: 'POST', headers: { Authorization: `Wallboard ${KEY}` } });
    const body = await res.json();
    assert.equal(res.status, 500);
    assert.match(body.error, /WALLBOARD_SYNC_SID is TWILIO_FLEX_SYNC_SID's service/);
  } finally {
    await rt.stop();
  }
});

test('the statistics writer grants the board identity read-only permission; a token is minted with O(1) Sync requests (documents layout, 600 queues)', async () => {
  const { addBoardQueues } = require('./helpers/board-queues');
  const docs = await startStack({ env: { WALLBOARD_KEY: KEY, QUEUE_STATS_LAYOUT: 'documents' } });
  try {
    const env = docs.emu.functionEnv();
    const mint = async () => {
      const before = docs.emu.requests.length;
      const res = await fetch(docs.rt.url('/wallboard-token'), { method: 'POST', headers: { Authorization: `Wallboard ${KEY}` } });
      assert.equal(res.status, 200, await res.text());
      return docs.emu.requests.slice(before).filter((r) => r.product === 'sync');
    };
    const sids = await addBoardQueues(docs, 1, { layout: 'documents', prefix: 'Doc' });
    // The writer (the real queue-stats function) created the board's copy and granted it.
    const board = docs.emu.state.sync.services.get(env.WALLBOARD_SYNC_SID);
    const doc = [...board.documents.values()].find((d) => d.uniqueName === `queueStats.${sids[0]}`);
    assert.deepEqual(docs.emu.state.syncLive.permissions.get(`${doc.sid}|wallboard-reader`), { read: true, write: false, manage: false });
    const index = [...board.maps.values()].find((m) => m.uniqueName === 'queueStats.index');
    assert.deepEqual(docs.emu.state.syncLive.permissions.get(`${index.sid}|wallboard-reader`), { read: true, write: false, manage: false });
    const withOne = await mint();
    await addBoardQueues(docs, 600, { layout: 'documents', prefix: 'Many' });
    assert.equal(index.items.size, 601);
    const withMany = await mint();
    console.log(`Sync requests to mint a board token: ${withOne.length} with 1 queue, ${withMany.length} with 601 queues`);
    assert.equal(withMany.length, withOne.length, withMany.map((r) => `${r.method} ${r.path}`).join('\n'));
    assert.ok(withMany.length <= 2, withMany.map((r) => `${r.method} ${r.path}`).join('\n'));
  } finally {
    await docs.stop();
  }
});

test('POST /staffing with `queues` answers every queue from one TaskRouter statistics list', async () => {
  const a = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'BatchA' })).sid;
  const b = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'BatchB' })).sid;
  await arrivals(a, 100);
  const before = stack.emu.requests.length;
  const gone = `WQ${'0'.repeat(32)}`;
  let r = await call('/staffing', { method: 'POST', ...wallboard, body: { queues: [{ queueSid: a, thresholdSeconds: 20, target: '80%' }, { queueSid: b, ahtSeconds: 360 }, { queueSid: gone }] } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const taskrouter = stack.emu.requests.slice(before).filter((q) => q.product === 'taskrouter');
  assert.deepEqual(
    taskrouter.map((q) => `${q.method} ${q.path.replace(/WS\w+/, 'WS')} ${q.query.Minutes}/${q.query.PageSize}`),
    ['GET /v1/Workspaces/WS/TaskQueues/Statistics 30/1000'],
  );
  const [ra, rb, rg] = r.body.results;
  const single = await call(`/staffing?queueSid=${a}&thresholdSeconds=20&target=80%25`, wallboard);
  assert.deepEqual(ra, single.body, 'a queue of a batch is answered as a single request would be');
  assert.equal(ra.agents, 14);
  assert.equal(rb.queueSid, b);
  assert.equal(rb.callsPerInterval, 0);
  assert.deepEqual([rg.queueSid, rg.code], [gone, 'queue_not_found']);
  r = await call('/staffing', { method: 'POST', ...wallboard, body: { queues: [{ queueSid: a }, { queueSid: b, target: '150%' }] } });
  assert.equal(r.status, 400);
  assert.equal(r.body.parameter, 'queues[1].target');
  r = await call('/staffing', { method: 'POST', ...wallboard, body: { queues: 'all' } });
  assert.equal(r.status, 400);
  assert.equal(r.body.parameter, 'queues');
});
