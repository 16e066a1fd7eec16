// The live agents view end to end: the emulator's workers change activity and reservations, the
// real event callback (twilio-run, the agents-live wasm) writes the board service, and boards read
// it through the emulator's live Sync client with tokens from /agents-live-token — the key's
// (counts only: Sync's ACL refuses the documents with names) and a supervisor's (names).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startStack } = require('./helpers/stack');
const { startRuntime } = require('./helpers/runtime');
const { emulatorClient } = require('./helpers/emulator-client');
const { directCall, reservation, record } = require('./helpers/voicemail');

const KEY = 'agents-key-' + 'k'.repeat(40);
// The 2 s is measured by `npm run bench` (scripts/bench-agents-live.js: event until its
// write); here a change must show within 15 s, so a loaded machine cannot fail the run.
const LIVE_MS = 15000;
let stack;
let env;
let Client;
const clients = [];
const q = {};
const w = {};

function loadClient() {
  const window = {};
  new Function('window', fs.readFileSync(path.join(__dirname, '..', 'emulator', 'sync-live-client.js'), 'utf8'))(window);
  return window.EmulatorSync.Client;
}

async function tokenFor(rt, authorization) {
  const res = await fetch(rt.url('/agents-live-token'), { method: 'POST', headers: { Authorization: authorization } });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

const supervisorAuth = () => `Bearer ${stack.emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token}`;

function connect(token) {
  const client = new Client(token, { origin: stack.emu.origin });
  clients.push(client);
  return client;
}

/** Polls `read` until `check` holds, for at most LIVE_MS after the emulator's change answered. */
async function untilSeen(label, read, check) {
  const deadline = Date.now() + LIVE_MS;
  let last;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) assert.fail(`${label}: not seen within ${LIVE_MS} ms; last read ${JSON.stringify(last).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every stored shard document's agents (the supervisor's view of Sync), through a live client. */
async function agentsVia(client, info) {
  const index = await client.document({ id: info.indexDocument, mode: 'open_existing' }).catch(() => null);
  const out = {};
  if (!index) return out;
  for (const n of index.data.shards) {
    const doc = await client.document({ id: `${info.documentPrefix}${n}`, mode: 'open_existing' });
    Object.assign(out, doc.data.agents);
    doc.close();
  }
  index.close();
  return out;
}

/** The counts documents added up per queue (what a key's board shows). */
async function queueCountsVia(client, info) {
  const index = await client.document({ id: info.indexDocument, mode: 'open_existing' }).catch(() => null);
  const queues = {};
  const activities = {};
  let parked = 0;
  let unheard = 0;
  if (!index) return { queues, activities, parked, unheard };
  for (const n of index.data.shards) {
    const doc = await client.document({ id: `${info.countsPrefix}${n}`, mode: 'open_existing' }).catch(() => null);
    if (!doc) continue;
    for (const [sid, c] of Object.entries(doc.data.queues)) {
      const e = (queues[c.name || sid] = queues[c.name || sid] || { loggedIn: 0, available: 0 });
      e.loggedIn += c.loggedIn;
      e.available += c.available;
      if (c.unheard) e.unheard = (e.unheard || 0) + c.unheard;
    }
    for (const [a, n2] of Object.entries(doc.data.activities)) activities[a] = (activities[a] || 0) + n2;
    parked += doc.data.parked;
    unheard += doc.data.unheard || 0;
    doc.close();
  }
  index.close();
  return { queues, activities, parked, unheard };
}

const activity = (sid, name) => stack.control('POST', `/emulator/agents/${sid}/activity`, { activity: name });
const step = (sid, task, s, queueSid) => stack.control('POST', `/emulator/agents/${sid}/tasks/${task}/${s}`, { queueSid, channel: 'voice' });

before(async () => {
  stack = await startStack({ env: { WALLBOARD_KEY: KEY } });
  env = stack.emu.functionEnv();
  Client = loadClient();
  q.sales = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Sales' })).sid;
  q.support = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Support' })).sid;
  const add = async (queues, friendlyName, team) => (await stack.control('POST', '/emulator/agents', { queues, workers: [{ friendlyName, team }] })).workers[0].sid;
  w.ann = await add([q.sales, q.support], 'Ann Archer', 'Blue');
  w.bob = await add([q.sales], 'Bob Baker', 'Red');
  w.cy = await add([q.support], 'Cy Chen', 'Blue');
});

after(async () => {
  for (const c of clients) c.shutdown();
  if (stack) await stack.stop();
});

test('live states and per-queue logged-in / available counts follow the emulator', async () => {
  const sup = await tokenFor(stack.rt, supervisorAuth());
  const key = await tokenFor(stack.rt, `Wallboard ${KEY}`);
  const s = connect(sup.token);
  const k = connect(key.token);
  await untilSeen(
    'three agents available',
    () => queueCountsVia(k, key),
    (c) => c.queues.Sales && c.queues.Sales.available === 2 && c.queues.Support.available === 2,
  );

  const r1 = await activity(w.ann, 'Break');
  assert.equal(r1.delivery.status, 200);
  assert.equal(r1.delivery.body.agentsLive.errors.length, 0, JSON.stringify(r1.delivery.body.agentsLive));
  const counts = await untilSeen(
    'Ann on a break',
    () => queueCountsVia(k, key),
    (c) => c.queues.Sales.available === 1 && c.queues.Support.available === 1,
  );
  assert.deepEqual(counts.queues, { Sales: { loggedIn: 2, available: 1 }, Support: { loggedIn: 2, available: 1 } });
  await untilSeen(
    'Ann on a break, by name',
    () => agentsVia(s, sup),
    (a) => a[w.ann] && a[w.ann].a === 'Break' && a[w.ann].n === 'Ann Archer' && a[w.ann].tm === 'Blue',
  );

  await activity(w.bob, 'Offline');
  await untilSeen(
    'Bob logged out',
    () => queueCountsVia(k, key),
    (c) => c.queues.Sales.loggedIn === 1 && c.queues.Sales.available === 0 && c.activities.Offline === 1,
  );

  // A task offered to Cy, accepted, wrapped up and completed; then one rejected and one timed out.
  await step(w.cy, 'WT' + 'a'.repeat(32), 'created', q.support);
  await step(w.cy, 'WT' + 'a'.repeat(32), 'accepted', q.support);
  await untilSeen(
    'Cy on a voice task',
    () => agentsVia(s, sup),
    (a) => a[w.cy].k.length === 1 && a[w.cy].k[0].ch === 'voice' && a[w.cy].k[0].st === 'assigned' && a[w.cy].c[0] === 1,
  );
  await step(w.cy, 'WT' + 'a'.repeat(32), 'wrapup', q.support);
  await step(w.cy, 'WT' + 'a'.repeat(32), 'completed', q.support);
  await step(w.cy, 'WT' + 'b'.repeat(32), 'created', q.support);
  await step(w.cy, 'WT' + 'b'.repeat(32), 'rejected', q.support);
  await step(w.cy, 'WT' + 'c'.repeat(32), 'created', q.support);
  await step(w.cy, 'WT' + 'c'.repeat(32), 'timeout', q.support);
  const agents = await untilSeen(
    "Cy's day",
    () => agentsVia(s, sup),
    (a) => a[w.cy].k.length === 0 && a[w.cy].c.join() === '1,1,1' && a[w.cy].h[1] === 1 && a[w.cy].w[1] === 1,
  );
  assert.ok(agents[w.cy].h[0] >= agents[w.cy].w[0], 'handle time includes wrap-up');

  await activity(w.ann, 'Available');
  await activity(w.bob, 'Available');
  await untilSeen(
    'everyone back',
    () => queueCountsVia(k, key),
    (c) => c.queues.Sales.available === 2 && c.queues.Support.available === 2,
  );
});

test("the key's token reads counts without names and cannot read the agents' documents; a supervisor's reads names", async () => {
  const key = await tokenFor(stack.rt, `Wallboard ${KEY}`);
  assert.equal(key.identity, 'wallboard-reader');
  assert.equal(key.names, false);
  const k = connect(key.token);
  const index = await k.document({ id: key.indexDocument, mode: 'open_existing' });
  assert.ok(index.data.shards.length >= 1);
  for (const n of index.data.shards) {
    await assert.rejects(k.document({ id: `${key.documentPrefix}${n}`, mode: 'open_existing' }), (err) => err.status === 403, `shard ${n} is refused to the key`);
    const counts = await k.document({ id: `${key.countsPrefix}${n}`, mode: 'open_existing' });
    const text = JSON.stringify(counts.data);
    for (const name of ['Ann', 'Bob', 'Cy', w.ann, w.bob, w.cy]) assert.ok(!text.includes(name), `counts ${n} name no agent (${name})`);
    await assert.rejects(counts.set({ hacked: true }), (err) => err.status === 403, 'the key writes nothing');
  }
  // Flex's service (parked calls) is not the token's service at all.
  await assert.rejects(k.map({ id: 'Global.ParkedCalls', mode: 'open_existing' }), (err) => err.status === 404);

  const sup = await tokenFor(stack.rt, supervisorAuth());
  assert.equal(sup.identity, 'wallboard-supervisor');
  assert.equal(sup.names, true);
  const agents = await agentsVia(connect(sup.token), sup);
  assert.equal(agents[w.ann].n, 'Ann Archer');
  // An agent's Flex token is refused, as for the queues board.
  const res = await fetch(stack.rt.url('/agents-live-token'), { method: 'POST', headers: { Authorization: `Bearer ${stack.emu.makeToken({ identity: 'al', roles: ['agent'] }).token}` } });
  assert.equal(res.status, 403);
});

test('with AGENTS_LIVE_KEY_SHOWS_NAMES=true the key gets the names (a documented setting)', async () => {
  const rt = await startRuntime({ env: { ...env, WALLBOARD_KEY: KEY, AGENTS_LIVE_KEY_SHOWS_NAMES: 'true' } });
  try {
    const key = await tokenFor(rt, `Wallboard ${KEY}`);
    assert.equal(key.identity, 'wallboard-supervisor');
    const agents = await agentsVia(connect(key.token), key);
    assert.equal(agents[w.bob].n, 'Bob Baker');
  } finally {
    await rt.stop();
  }
});

test('parked calls an agent holds are counted from the parking records, without the caller', async () => {
  const rest = emulatorClient(stack.emu);
  const parking = rest.sync.v1.services(env.SYNC_SERVICE_SID);
  await parking.syncMaps.create({ uniqueName: `${w.ann}.ParkedCalls` });
  await parking
    .syncMaps(`${w.ann}.ParkedCalls`)
    .syncMapItems.create({ key: 'CA' + '5'.repeat(32), data: { callSid: 'CA' + '5'.repeat(32), dateCreated: new Date().toISOString(), name: '+15557654321', workerSid: w.ann } });
  // Parking wraps the task up: the reservation event reads the worker's parked calls.
  await step(w.ann, 'WT' + 'd'.repeat(32), 'created', q.sales);
  await step(w.ann, 'WT' + 'd'.repeat(32), 'accepted', q.sales);
  await step(w.ann, 'WT' + 'd'.repeat(32), 'wrapup', q.sales);
  const sup = await tokenFor(stack.rt, supervisorAuth());
  const key = await tokenFor(stack.rt, `Wallboard ${KEY}`);
  const agents = await untilSeen(
    'Ann holds a parked call',
    () => agentsVia(connect(sup.token), sup),
    (a) => a[w.ann].p === 1,
  );
  assert.ok(!JSON.stringify(agents).includes('+1555'), "no caller's number on the board");
  await untilSeen(
    'one parked call in the counts',
    () => queueCountsVia(connect(key.token), key),
    (c) => c.parked === 1,
  );
});

test("an agent's unheard voicemails: recorded → 1, heard → 0, unheard again → 1, deleted → gone; the key reads counts only", async () => {
  const sup = await tokenFor(stack.rt, supervisorAuth());
  const key = await tokenFor(stack.rt, `Wallboard ${KEY}`);
  const s = connect(sup.token);
  const k = connect(key.token);
  // A direct call to Cy, rejected: voicemail (the event callback's voicemail hook), then the message.
  const call = await directCall(stack, w.cy, { workerName: 'Cy Chen', from: '+15559870001' });
  const r = await reservation(stack, call.taskSid, w.cy, 'rejected');
  assert.equal(JSON.parse(r.deliveries[0].body).voicemail.action, 'voicemail', r.deliveries[0].body);
  const rec = await record(stack, call.callSid);
  assert.equal(rec.deliveries.status[0].status, 200);
  await untilSeen(
    'Cy has one unheard voicemail',
    () => agentsVia(s, sup),
    (a) => a[w.cy].vm === 1,
  );
  const counts = await untilSeen(
    'one unheard in the counts, in Support',
    () => queueCountsVia(k, key),
    (c) => c.unheard === 1,
  );
  assert.equal(counts.queues.Support.unheard, 1);
  assert.equal(counts.queues.Sales.unheard, undefined);
  // What the key reads holds the number only: no caller, no call, no recording.
  const index = await k.document({ id: key.indexDocument, mode: 'open_existing' });
  for (const n of index.data.shards) {
    const text = JSON.stringify((await k.document({ id: `${key.countsPrefix}${n}`, mode: 'open_existing' })).data);
    for (const secret of ['+1555987', call.callSid, rec.recording.sid, 'Cy']) assert.ok(!text.includes(secret), `counts ${n} hold no ${secret}`);
  }
  // The board's identities still cannot open the voicemail box (it is not in their service).
  await assert.rejects(s.map({ id: `Voicemail.${w.cy}`, mode: 'open_existing' }), (err) => err.status === 404);

  const box = async (body) => {
    const res = await fetch(stack.rt.url('/voicemail'), {
      method: 'POST',
      headers: { Authorization: supervisorAuth(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ workerSid: w.cy, callSid: call.callSid, ...body }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  };
  await box({ action: 'heard' });
  await untilSeen(
    'heard: none unheard',
    () => agentsVia(s, sup),
    (a) => a[w.cy] && a[w.cy].vm === undefined,
  );
  await untilSeen(
    'heard: none in the counts',
    () => queueCountsVia(k, key),
    (c) => c.unheard === 0,
  );
  await box({ action: 'heard', heard: 'false' });
  await untilSeen(
    'unheard again',
    () => agentsVia(s, sup),
    (a) => a[w.cy].vm === 1,
  );
  await box({ action: 'delete' });
  const gone = await untilSeen(
    'deleted: gone',
    () => agentsVia(s, sup),
    (a) => a[w.cy] && a[w.cy].vm === undefined,
  );
  assert.equal(gone[w.cy].n, 'Cy Chen', 'the agent stays on the board');
  await untilSeen(
    'deleted: none in the counts',
    () => queueCountsVia(k, key),
    (c) => c.unheard === 0,
  );
});

test("a failing write of the count never fails storing the voicemail; the box's next change puts it right", async () => {
  const sup = await tokenFor(stack.rt, supervisorAuth());
  const s = connect(sup.token);
  const call = await directCall(stack, w.bob, { workerName: 'Bob Baker' });
  await reservation(stack, call.taskSid, w.bob, 'rejected');
  // Every write of the agents view fails while the message is stored.
  for (let i = 0; i < 6; i += 1) stack.emu.failNext({ method: 'POST', path: /\/Documents\/agentsLive\./ }, { status: 500 });
  const rec = await record(stack, call.callSid, { 'repeat.transcription': '0' });
  assert.equal(rec.deliveries.status[0].status, 200, 'the voicemail is stored');
  assert.equal(JSON.parse(rec.deliveries.status[0].body).stored, true);
  stack.emu.clearFaults();
  assert.equal((await agentsVia(s, sup))[w.bob].vm, undefined, 'the count did not reach the board');
  // Marking it unheard (a no-op on the voicemail) counts the box again: the board shows it.
  const res = await fetch(stack.rt.url('/voicemail'), {
    method: 'POST',
    headers: { Authorization: supervisorAuth(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ workerSid: w.bob, callSid: call.callSid, action: 'heard', heard: 'false' }),
  });
  assert.equal(res.status, 200);
  await untilSeen(
    'Bob has one unheard voicemail',
    () => agentsVia(s, sup),
    (a) => a[w.bob].vm === 1,
  );
});

test('a failing write of the agents view never fails the queue-statistics callback, and loses nothing', async () => {
  const sup = await tokenFor(stack.rt, supervisorAuth());
  const before = (await agentsVia(connect(sup.token), sup))[w.cy].c[2];
  stack.emu.failNext({ method: 'POST', path: /\/Documents\/agentsLive\./ }, { status: 500 });
  const r = await step(w.cy, 'WT' + 'e'.repeat(32), 'timeout', q.support);
  assert.equal(r.delivery.status, 200);
  assert.ok(r.delivery.body.plan, 'the queue-statistics summary is there');
  assert.ok(r.delivery.body.agentsLive.errors.length >= 1, JSON.stringify(r.delivery.body.agentsLive));
  // The next event of that shard writes the failed one with it: the timeout is counted once.
  await activity(w.cy, 'Break');
  await untilSeen(
    'Cy on a break, the timeout counted',
    () => agentsVia(connect(sup.token), sup),
    (a) => a[w.cy].a === 'Break' && a[w.cy].c[2] === before + 1,
  );
});
