// GET /queue-history end to end: the real local runtime, the real history wasm module, the real
// `twilio` client against the emulator, whose TaskRouter statistics and events come from the same
// task steps. Hours in the past are seeded by moving the emulator's clock back; nothing ran while
// they passed, so the first request backfills them.
// Hours matter here ("the last closed hour"): every process reads a clock pinned to a half hour.
require('./helpers/clock').pinNow();
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');
const { startRuntime } = require('./helpers/runtime');
const { emulatorClient, postForm, sid } = require('./helpers/emulator-client');
const { historyMachines } = require('../scripts/queue-history-machine');

const HOUR = 3600000;
const KEY = 'wallboard-key-for-history-tests-0123456789';
// The start of the hour three hours ago: closed, and New York's hours start on UTC hours.
const H = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
// The answer rounds once, after the division (crates/history): seconds to 0.1, shares to 0.0001, agents to 0.01.
const sec = (v) => Math.round(v * 10) / 10;
const share = (v) => Math.round(v * 10000) / 10000;
const agents = (v) => Math.round(v * 100) / 100;

let emu;
let rt;
let client;
let q1;
let q2;

// The emulator's clock stands still at `ms`, so a step lands on its exact millisecond however
// loaded the machine is; `emu.clock.resume()` returns it to the real time.
const at = (ms) => emu.clock.hold(ms);

function seed() {
  q1 = trs.createQueue(emu.ctx, { friendlyName: 'Sales' });
  q2 = trs.createQueue(emu.ctx, { friendlyName: 'Support' });
  const m = 60000;
  const step = (ms, q, task, s, opts) => (at(ms), trs.taskStep(emu.ctx, q.sid, task, s, opts));
  at(H - 30 * m);
  trs.addWorker(emu.ctx, q1.sid, 'WK1', { activity: 'Available' });
  trs.addWorker(emu.ctx, q2.sid, 'WK1', { activity: 'Available' });
  trs.addWorker(emu.ctx, q1.sid, 'WK2', { activity: 'Offline' });
  // Hour H, Sales: T1 waits 20 s, handled 600 s; T2 waits 65 s, handled 240 s; T3 abandons after
  // 3 s (short); T4 (chat) abandons after 45 s; T5 waits 10 s and completes in the next hour.
  step(H + 1 * m, q1, 'T1', 'entered');
  step(H + 1 * m + 20000, q1, 'T1', 'reserved');
  step(H + 1 * m + 20000, q1, 'T1', 'accepted');
  step(H + 2 * m, q1, 'T2', 'entered');
  step(H + 2 * m + 65000, q1, 'T2', 'accepted');
  step(H + 3 * m, q1, 'T3', 'entered');
  step(H + 3 * m + 3000, q1, 'T3', 'canceled');
  step(H + 4 * m, q1, 'T4', 'entered', { channel: 'chat' });
  step(H + 4 * m + 45000, q1, 'T4', 'canceled');
  step(H + 7 * m + 5000, q1, 'T2', 'completed');
  step(H + 11 * m + 20000, q1, 'T1', 'completed');
  at(H + 15 * m);
  trs.setActivity(emu.ctx, 'WK2', 'Available');
  at(H + 30 * m);
  trs.setActivity(emu.ctx, 'WK1', 'Break');
  at(H + 40 * m);
  trs.setActivity(emu.ctx, 'WK1', 'Available');
  step(H + 50 * m, q1, 'T5', 'entered');
  step(H + 50 * m + 10000, q1, 'T5', 'accepted');
  at(H + 50 * m);
  trs.setActivity(emu.ctx, 'WK2', 'Offline');
  // Support: T6 waits 5 s, handled 100 s.
  step(H + 5 * m, q2, 'T6', 'entered');
  step(H + 5 * m + 5000, q2, 'T6', 'accepted');
  step(H + 5 * m + 105000, q2, 'T6', 'completed');
  // Hour H+1, Sales: T5 completes (handle 1790 s); T7 waits exactly 30 s.
  step(H + HOUR + 20 * m, q1, 'T5', 'completed');
  step(H + HOUR + 5 * m, q1, 'T7', 'entered');
  step(H + HOUR + 5 * m + 30000, q1, 'T7', 'accepted');
  emu.clock.resume();
}

before(async () => {
  emu = await startEmulator({ port: 0 });
  client = emulatorClient(emu);
  seed();
  const env = emu.functionEnv();
  rt = await startRuntime({
    env: { ...env, TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID, QUEUE_STATS_TIME_ZONE: 'America/New_York', WALLBOARD_KEY: KEY },
  });
});

after(async () => {
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
});

async function history(query, headers = { Authorization: `Wallboard ${KEY}` }) {
  const res = await fetch(rt.url(`/queue-history?${new URLSearchParams(query)}`), { headers });
  return { status: res.status, body: await res.json() };
}

const historyItems = () => {
  const service = emu.state.sync.services.get(emu.functionEnv().SYNC_SERVICE_SID);
  return [...service.maps.values()].filter((m) => m.uniqueName.startsWith('queueHistory.')).flatMap((m) => [...m.items.values()]);
};
const taskrouterRequests = () => emu.requests.filter((r) => /taskrouter/.test(r.product || r.host || r.url || r.path || '') || /\/Workspaces\//.test(r.path || r.url || '')).length;

test('a missed hour is backfilled and equals TaskRouter cumulative statistics for that hour', async () => {
  assert.equal(historyItems().length, 0);
  const { status, body } = await history({ queue: q1.sid, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.zone, 'America/New_York');
  assert.deepEqual(body.missing, []);
  assert.equal(body.series.length, 2);
  const [first, second] = body.series;
  assert.equal(first.start, iso(H));
  assert.equal(first.end, iso(H + HOUR));
  assert.equal(second.start, iso(H + HOUR));

  const ws = client.taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID);
  const truth = await ws
    .taskQueues(q1.sid)
    .cumulativeStatistics()
    .fetch({ startDate: new Date(H), endDate: new Date(H + HOUR), splitByWaitTime: '5,30,60,120' });
  assert.equal(first.entered, truth.tasksEntered);
  assert.equal(first.accepted, truth.reservationsAccepted);
  assert.equal(first.abandoned, truth.tasksCanceled);
  assert.equal(first.avgWait, sec(truth.waitDurationUntilAccepted.total / truth.reservationsAccepted));
  assert.equal(first.maxWait, truth.waitDurationUntilAccepted.max);
  assert.equal(first.avgAbandon, sec(truth.waitDurationUntilCanceled.total / truth.tasksCanceled));
  assert.equal(first.shortAbandoned, truth.splitByWaitTime['5'].below.tasks_canceled);
  for (const t of ['30', '60', '120']) {
    const s = truth.splitByWaitTime[t];
    const level = s.below.reservations_accepted / (s.below.reservations_accepted + s.above.reservations_accepted + s.above.tasks_canceled);
    assert.equal(first.serviceLevel[t], share(level), `SLA ${t}`);
  }
  // The same by hand: 5 entered, 3 accepted (20 s, 65 s, 10 s), 2 abandoned (3 s short, 45 s).
  assert.deepEqual([first.entered, first.accepted, first.abandoned, first.shortAbandoned, first.avgWait, first.maxWait, first.avgAbandon], [5, 3, 2, 1, sec(95 / 3), 65, 24]);
  // SLA 30 s: 2 below / (2 below + 1 above + 1 abandoned above); the 3 s short abandon counts neither way.
  assert.deepEqual(first.serviceLevel, { 30: 2 / 4, 60: share(2 / 3), 120: 1 });
  // Handle time from TaskRouter's events: T1 600 s and T2 240 s; T5 (1790 s) counts in the next hour.
  assert.deepEqual([first.handled, first.avgHandle], [2, 420]);
  assert.deepEqual([second.handled, second.avgHandle, second.accepted, second.serviceLevel['30']], [1, 1790, 1, 1]);
  // Agents from TaskRouter's worker statistics: 85 available and 95 logged-in minutes in the hour.
  assert.equal(first.avgAvailable, agents(85 / 60));
  assert.equal(first.avgLoggedIn, agents(95 / 60));
  // Stored: one item per channel (a map each: queueHistory.all, .voice, .chat, .video) for each hour.
  assert.equal(historyItems().length, 2 * 4);
});

test('a closed hour is immutable: read from Sync again, no TaskRouter call, later steps ignored', async () => {
  const query = { queue: q1.sid, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' };
  const before = await history(query);
  const calls = taskrouterRequests();
  at(H + 20 * 60000);
  trs.taskStep(emu.ctx, q1.sid, 'T8', 'entered');
  emu.clock.resume();
  const again = await history(query);
  assert.equal(taskrouterRequests(), calls);
  assert.deepEqual(again.body, before.body);
});

test("duplicated and out-of-order events in TaskRouter's event stream leave handle time unchanged", async () => {
  // Hour H-1 in Support: T9 accepted at H-50m, completed at H-40m (600 s). Then the stream gets a
  // second copy of both events, appended after later ones (out of order), and a re-delivered
  // completion ten minutes later.
  const m = 60000;
  at(H - 55 * m);
  trs.taskStep(emu.ctx, q2.sid, 'T9', 'entered');
  at(H - 50 * m);
  trs.taskStep(emu.ctx, q2.sid, 'T9', 'accepted');
  at(H - 40 * m);
  trs.taskStep(emu.ctx, q2.sid, 'T9', 'completed');
  at(H - 30 * m);
  trs.taskStep(emu.ctx, q2.sid, 'T10', 'entered');
  const [, accepted, completed] = q2.log.filter((e) => e.task === 'T9');
  q2.log.push({ ...completed }, { ...accepted }, { ...completed, at: H - 30 * m });
  emu.clock.resume();
  const ws = client.taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID);
  const stream = await ws.events.list({ taskQueueSid: q2.sid, startDate: new Date(H - HOUR), endDate: new Date(H) });
  assert.equal(stream.filter((e) => e.eventData.task_sid === 'T9' && e.eventType === 'task.completed').length, 3);
  const { body } = await history({ queue: q2.sid, from: iso(H - HOUR), to: iso(H), by: 'hour' });
  assert.equal(body.series.length, 1);
  assert.deepEqual([body.series[0].handled, body.series[0].avgHandle], [1, 600]);
});

test('several queues aggregate from counts, per queue and in total; channels are separate', async () => {
  const { body } = await history({ queue: `${q1.sid},${q2.sid}`, from: iso(H), to: iso(H + HOUR), by: 'queue' });
  assert.deepEqual(
    body.series.map((r) => r.label),
    ['Sales', 'Support'],
  );
  assert.equal(body.totals.accepted, 4);
  assert.equal(body.totals.avgWait, sec((20 + 65 + 10 + 5) / 4));
  assert.equal(body.totals.avgHandle, sec((600 + 240 + 100) / 3));
  const chat = await history({ queue: q1.sid, channel: 'chat', from: iso(H), to: iso(H + HOUR) });
  assert.deepEqual([chat.body.totals.entered, chat.body.totals.abandoned, chat.body.totals.avgAbandon], [1, 1, 45]);
  // Seven whole local days before H's: every weekday has closed hours whatever the time of day
  // (`last7` from New York's first hour of a day has no closed hour of today's weekday yet).
  const nyDate = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  const byDay = await history({ from: nyDate(H - 7 * 24 * HOUR), to: nyDate(H - 24 * HOUR), by: 'dayOfWeek' });
  assert.equal(byDay.status, 200);
  assert.equal(byDay.body.series.length, 7);
  const hod = await history({ range: 'last7', by: 'hourOfDay' });
  assert.equal(hod.body.series.length, 24);
});

test('duplicate and out-of-order event callbacks change nothing; the hook closes the last hour', async () => {
  const query = { queue: q1.sid, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' };
  const before = await history(query);
  const env = emu.functionEnv();
  const event = (type, task, atMs) => ({
    EventType: type,
    AccountSid: env.ACCOUNT_SID,
    WorkspaceSid: env.WORKSPACE_SID,
    ResourceType: type.startsWith('reservation') ? 'Reservation' : 'Task',
    ResourceSid: task,
    Sid: sid('EV'),
    Timestamp: String(Math.floor(atMs / 1000)),
    TaskSid: task,
    TaskQueueSid: q1.sid,
    TaskQueueName: 'Sales',
    TaskChannelUniqueName: 'voice',
    TaskAge: '0',
    TaskAttributes: '{}',
    TaskPriority: '0',
    TaskAssignmentStatus: 'assigned',
  });
  const events = [event('task.completed', 'T1', H + 680000), event('reservation.accepted', 'T1', H + 80000), event('task.completed', 'T2', H + 425000)];
  // The last closed hour is stored already (backfilled by the ranges above): forget it, so the
  // hook closes it.
  const last = Math.floor((Date.now() - 60000) / HOUR) * HOUR - HOUR;
  const key = `all.${iso(last).replace(/[-:]/g, '').replace('00Z', 'Z')}.0`;
  const service = emu.state.sync.services.get(env.SYNC_SERVICE_SID);
  for (const m of service.maps.values()) {
    if (m.uniqueName.startsWith('queueHistory.')) for (const k of [...m.items.keys()]) if (k.includes(key.slice(4, -2))) m.items.delete(k);
  }
  assert.ok(!historyItems().some((i) => i.key === key));
  const answers = [];
  const firstRequest = emu.requests.length;
  let closing = null;
  for (const e of [...events, ...events.slice().reverse(), events[0]]) {
    const res = await postForm(rt.url('/realtimestats-updateQueueStatistics'), e);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    answers.push(res.body.history);
    if (!closing) closing = emu.requests.slice(firstRequest);
  }
  // The event that closed the hour sent no identical TaskRouter request twice (history's requests:
  // windowed statistics, events, workers).
  assert.ok(answers[0].taskrouterCalls > 0, JSON.stringify(answers[0]));
  const historyQueries = closing.filter((r) => /\/Workspaces\//.test(r.path) && r.method === 'GET').map((r) => `${r.method} ${r.path}?${new URLSearchParams(Object.entries(r.query).sort())}`);
  assert.ok(historyQueries.length >= answers[0].taskrouterCalls);
  assert.equal(new Set(historyQueries).size, historyQueries.length, historyQueries.join('\n'));
  assert.ok(!closing.some((r) => /\/Workers\/CumulativeStatistics$/.test(r.path)));
  // After the first event the hook costs nothing.
  for (const h of answers.slice(1)) assert.deepEqual(h, { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 });
  const after = await history(query);
  assert.deepEqual(after.body, before.body);
  assert.ok(
    historyItems().some((i) => i.key === key),
    `${key} stored by the hook`,
  );
});

test('bad parameters are 400 naming the parameter; only supervisors and the wallboard may read', async () => {
  const cases = [
    [{ by: 'week' }, 'by'],
    [{ channel: 'fax' }, 'channel'],
    [{ queue: 'WQ123' }, 'queue'],
    [{ from: 'soon' }, 'from'],
    [{ from: '2026-01-02', to: '2026-01-01T00:00' }, 'to'],
    [{ to: '2026-01-01' }, 'from'],
    [{ range: 'fortnight' }, 'range'],
  ];
  for (const [query, parameter] of cases) {
    const { status, body } = await history(query);
    assert.equal(status, 400, JSON.stringify(query));
    assert.equal(body.parameter, parameter);
    assert.match(body.error, new RegExp(`^${parameter}=`));
  }
  assert.equal((await history({}, {})).status, 403);
  const agent = emu.makeToken({ identity: 'agent', roles: ['agent'], workerSid: 'WK1' }).token;
  assert.equal((await history({}, { Authorization: `Bearer ${agent}` })).status, 403);
  const supervisor = emu.makeToken({ identity: 'sup', roles: ['supervisor'] }).token;
  assert.equal((await history({ range: 'today' }, { Authorization: `Bearer ${supervisor}` })).status, 200);
});

test('hours past retention are deleted as new hours are written; staffing reads the measured handle time', async () => {
  const env = emu.functionEnv();
  // A second writer beside the runtime's container shares the map's 20 writes/s: 429s are retried,
  // as functions/common/client's withRetry does in the functions.
  const retry = async (fn, attempt = 0) => {
    try {
      return await fn();
    } catch (err) {
      if (err.status !== 429 || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, 250));
      return retry(fn, attempt + 1);
    }
  };
  // The history machines (crates/history-machines) on the functions' executor, as one more container.
  const history = historyMachines({ context: env, env: { QUEUE_STATS_TIME_ZONE: 'America/New_York', QUEUE_HISTORY_RETENTION_DAYS: '1' }, client, retry });
  const old = H - 2 * 24 * HOUR;
  const { queues } = await history.close([iso(old)]);
  const stamp = (ms) => iso(ms).replace(/[-:]/g, '').replace('00Z', 'Z');
  assert.ok(historyItems().some((i) => i.key.startsWith(`all.${stamp(old)}`)));
  // Writing the hour one day later removes every hour at or before it minus a day.
  await history.close([iso(old + 24 * HOUR)], queues);
  assert.ok(!historyItems().some((i) => i.key.includes(stamp(old))), 'the expired hour is gone');
  assert.ok(historyItems().some((i) => i.key.startsWith(`all.${stamp(old + 24 * HOUR)}`)));
  // The measured handle times: the last 7 days' stored hours by queue (no backfill), as staffing reads them.
  const measured = await history.series({ range: 'last7', by: 'queue', queue: `${q1.sid},${q2.sid}` }, { backfill: false });
  const handle = Object.fromEntries(measured.series.map((r) => [r.key, r]));
  assert.equal(handle[q1.sid].handled, 3); // T1, T2 and T5 (T5 completed in H+1)
  assert.equal(handle[q1.sid].avgHandle, sec((600 + 240 + 1790) / 3));
  assert.deepEqual([handle[q2.sid].handled, handle[q2.sid].avgHandle], [2, (100 + 600) / 2]); // T6 and T9
});

test('DST change days have 23 and 25 hourly buckets with their real boundaries', async () => {
  const env = emu.functionEnv();
  const berlin = await startRuntime({
    env: {
      ...env,
      TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID,
      TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID,
      QUEUE_STATS_TIME_ZONE: 'Europe/Berlin',
      QUEUE_HISTORY_ENABLED: 'false',
      WALLBOARD_KEY: KEY,
    },
  });
  try {
    const get = async (query) => {
      const res = await fetch(berlin.url(`/queue-history?${new URLSearchParams(query)}`), { headers: { Authorization: `Wallboard ${KEY}` } });
      assert.equal(res.status, 200);
      return res.json();
    };
    const spring = await get({ from: '2026-03-29', to: '2026-03-29', by: 'hour', queue: q1.sid });
    assert.equal(spring.series.length, 23);
    assert.deepEqual([spring.series[1].start, spring.series[1].end, spring.series[2].label], ['2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z', '2026-03-29 03:00 +02:00']);
    const fall = await get({ from: '2026-10-25', to: '2026-10-25', by: 'hour', queue: q1.sid });
    assert.equal(fall.series.length, 25);
    assert.deepEqual(
      fall.series.slice(2, 4).map((r) => [r.start, r.label]),
      [
        ['2026-10-25T00:00:00Z', '2026-10-25 02:00 +02:00'],
        ['2026-10-25T01:00:00Z', '2026-10-25 02:00 +01:00'],
      ],
    );
    const day = await get({ from: '2026-10-25', to: '2026-10-25', by: 'date', queue: q1.sid });
    assert.deepEqual([day.series[0].start, day.series[0].end], ['2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z']);
  } finally {
    await berlin.stop();
  }
});

test('staffing uses the measured handle time of a queue before any default', async () => {
  const staffing = async (query) => {
    const res = await fetch(rt.url(`/staffing?${new URLSearchParams(query)}`), { headers: { Authorization: `Wallboard ${KEY}` } });
    return { status: res.status, body: await res.json() };
  };
  // Sales: T1 600 s, T2 240 s, T5 1790 s in the stored hours of the last 7 days.
  let r = await staffing({ queueSid: q1.sid, fallbackAhtSeconds: '300' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.sources.handleTime, 'measured');
  assert.equal(r.body.ahtSeconds, sec((600 + 240 + 1790) / 3)); // the history's average, to 0.1 s
  r = await staffing({ queueSid: q1.sid, ahtSeconds: '120' });
  assert.deepEqual([r.body.sources.handleTime, r.body.ahtSeconds], ['request', 120]);
  // A queue with nothing measured falls back.
  const empty = trs.createQueue(emu.ctx, { friendlyName: 'New' });
  r = await staffing({ queueSid: empty.sid, fallbackAhtSeconds: '300' });
  assert.deepEqual([r.body.sources.handleTime, r.body.ahtSeconds], ['fallback', 300]);
});
