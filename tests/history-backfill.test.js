// Queue history's backfill end to end (twilio-run, the history wasm module, the real `twilio`
// client against the emulator), counted from the emulator's request log:
// - five concurrent 30-day requests (what the history view fires) backfill each hour once: no
//   identical TaskRouter query for an hour twice, no item written twice;
// - a TaskRouter failure mid-backfill answers the hours it has plus `missing` naming the failed
//   hour and why; the next request fills it in;
// - agents per queue come from an operation that takes the queue (Workers?TaskQueueSid=) and the
//   activity events, match the emulator's model with more than 100 workers, and differ per queue;
//   Workers/CumulativeStatistics, which declares no TaskQueueSid, is never asked.
// Hours matter here (the hours before now, yesterday's day key): every process reads a clock pinned to a half hour.
require('./helpers/clock').pinNow();
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');
const { activityDurations } = require('../emulator/taskrouter-history');
const { startRuntime } = require('./helpers/runtime');

const HOUR = 3600000;
const KEY = 'wallboard-key-for-backfill-tests-0123456789';
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
const H = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

let emu;
let rt;
let queues;

// The emulator's clock stands still at `ms`, so a step lands on its exact millisecond however
// loaded the machine is; `emu.clock.resume()` returns it to the real time.
const at = (ms) => emu.clock.hold(ms);

before(async () => {
  emu = await startEmulator({ port: 0 });
  queues = ['Sales', 'Support', 'Billing'].map((friendlyName) => trs.createQueue(emu.ctx, { friendlyName }));
  // 150 workers: Sales has workers 0–119, Support 100–149, Billing all of them.
  const m = 60000;
  at(H - 2 * HOUR);
  const wk = (i) => `WK${String(i).padStart(32, '0')}`;
  for (let i = 0; i < 150; i++) {
    if (i < 120) trs.addWorker(emu.ctx, queues[0].sid, wk(i), { activity: i % 4 === 0 ? 'Offline' : 'Available' });
    if (i >= 100) trs.addWorker(emu.ctx, queues[1].sid, wk(i), { activity: i % 4 === 0 ? 'Offline' : 'Available' });
    trs.addWorker(emu.ctx, queues[2].sid, wk(i), { activity: i % 4 === 0 ? 'Offline' : 'Available' });
  }
  // Inside hour H: every third worker takes a break for a while, every fifth logs off.
  for (let i = 0; i < 150; i++) {
    if (i % 3 === 0) {
      at(H + (5 + (i % 40)) * m);
      trs.setActivity(emu.ctx, wk(i), 'Break');
      at(H + (30 + (i % 20)) * m);
      trs.setActivity(emu.ctx, wk(i), 'Available');
    }
    if (i % 5 === 0) {
      at(H + (50 + (i % 7)) * m);
      trs.setActivity(emu.ctx, wk(i), 'Offline');
    }
  }
  // Some traffic in hour H.
  at(H + 10 * m);
  trs.taskStep(emu.ctx, queues[0].sid, 'WT1', 'entered');
  at(H + 10 * m + 20000);
  trs.taskStep(emu.ctx, queues[0].sid, 'WT1', 'accepted');
  emu.clock.resume();
  const env = emu.functionEnv();
  rt = await startRuntime({
    env: {
      ...env,
      TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID,
      TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID,
      QUEUE_STATS_TIME_ZONE: 'UTC',
      QUEUE_STATS_CHANNELS: 'voice',
      QUEUE_HISTORY_ENABLED: 'false',
      WALLBOARD_KEY: KEY,
    },
  });
});

after(async () => {
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
});

async function history(query) {
  const res = await fetch(rt.url(`/queue-history?${new URLSearchParams(query)}`), { headers: { Authorization: `Wallboard ${KEY}` } });
  return { status: res.status, body: await res.json() };
}

const taskrouter = (from = 0) => emu.requests.slice(from).filter((r) => /\/Workspaces\//.test(r.path));
const itemCreates = (from = 0) => emu.requests.slice(from).filter((r) => r.method === 'POST' && /\/Maps\/queueHistory\.[^/]+\/Items$/.test(r.path));
// The keys created more than once with the statuses of their creates (what a failure shows).
const createdTwice = (creates) => {
  const statuses = new Map();
  for (const r of creates) statuses.set(`${r.path} ${r.body.Key}`, [...(statuses.get(`${r.path} ${r.body.Key}`) || []), r.status]);
  return JSON.stringify([...statuses].filter(([, list]) => list.length > 1));
};
const queryOf = (r) => `${r.method} ${r.path}?${new URLSearchParams(Object.entries(r.query).sort())}`;
const storedKeys = () => {
  const service = emu.state.sync.services.get(emu.functionEnv().SYNC_SERVICE_SID);
  return [...service.maps.values()].filter((m) => m.uniqueName.startsWith('queueHistory.')).flatMap((m) => [...m.items.keys()]);
};

test('a TaskRouter failure mid-backfill answers the stored hours plus missing naming the hour and why', async () => {
  const from = H - 3 * HOUR;
  const to = H;
  const first = emu.requests.length;
  // The fifth cumulative-statistics request of the backfill fails with a 500 (not retried).
  let seen = 0;
  emu.failNext((info) => /\/CumulativeStatistics$/.test(info.path) && ++seen === 5, { status: 500, code: 20500, message: 'Internal Server Error' });
  const { status, body } = await history({ from: iso(from), to: iso(to), by: 'hour' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.closedHours, 3);
  assert.equal(body.missing.length, 1, JSON.stringify(body.missing));
  const [gap] = body.missing;
  assert.equal(gap.code, 'failed');
  assert.match(gap.reason, /500/);
  assert.ok([from, from + HOUR, from + 2 * HOUR].map(iso).includes(gap.hour));
  // The other two hours are stored and in the series; the failed one has no buckets.
  const stamp = (ms) => iso(ms).replace(/[-:]/g, '').replace('00Z', 'Z');
  for (const hour of [from, from + HOUR, from + 2 * HOUR]) {
    const stored = storedKeys().some((k) => k.startsWith(`all.${stamp(hour)}`));
    assert.equal(stored, iso(hour) !== gap.hour, iso(hour));
    const row = body.series.find((r) => r.start === iso(hour));
    assert.equal(row.buckets > 0, iso(hour) !== gap.hour, iso(hour));
  }
  assert.ok(taskrouter(first).some((r) => r.status === 500));
  // The next request fills the gap in (the failed hour's claim was released).
  const again = await history({ from: iso(from), to: iso(to), by: 'hour' });
  assert.deepEqual(again.body.missing, []);
  assert.ok(storedKeys().some((k) => k.startsWith(`all.${gap.hour.replace(/[-:]/g, '').replace('00Z', 'Z')}`)));
});

test('agents per queue match the emulator model with 150 workers, differ per queue, without worker statistics', async () => {
  const { status, body } = await history({ from: iso(H), to: iso(H + HOUR), by: 'queue' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.missing, []);
  const figures = {};
  for (const q of queues) {
    const model = activityDurations(emu.ctx, [...q.workerSids], H, H + HOUR);
    const seconds = (names) => model.filter((a) => names(a.friendly_name)).reduce((s, a) => s + a.total, 0);
    const row = body.series.find((r) => r.key === q.sid);
    assert.ok(row, q.friendlyName);
    // The model rounds to whole seconds (the test clock may tick a millisecond between steps).
    // Answered to a hundredth of an agent (crates/history rounds once, after the division).
    const near = (answered, modelled, what) => assert.ok(Math.abs(answered - modelled / 3600) <= 0.005 + 1e-9, `${q.friendlyName} ${what}: ${answered} vs ${modelled / 3600}`);
    near(
      row.avgAvailable,
      seconds((n) => n === 'Available'),
      'available',
    );
    near(
      row.avgLoggedIn,
      seconds((n) => n !== 'Offline'),
      'logged in',
    );
    figures[q.friendlyName] = [row.avgAvailable, row.avgLoggedIn];
  }
  assert.equal(new Set(Object.values(figures).map(String)).size, 3, JSON.stringify(figures));
  assert.ok(figures.Billing[1] > 100, `more than 100 agents logged in: ${figures.Billing[1]}`);
  // The per-queue operation was asked, never Workers/CumulativeStatistics (it takes no queue).
  assert.ok(taskrouter().some((r) => /\/Workers$/.test(r.path) && r.query.TaskQueueSid === queues[2].sid));
  assert.ok(!taskrouter().some((r) => /\/Workers\/CumulativeStatistics$/.test(r.path)));
  // (The emulator refuses TaskQueueSid there, as Twilio's definition: tests/emulator-spec.test.js.)
  assert.deepEqual(emu.violations, []);
});

test('two containers asked for the same day at once: each hour is claimed and backfilled once', async () => {
  const env = emu.functionEnv();
  const second = await startRuntime({
    env: {
      ...env,
      TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID,
      TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID,
      QUEUE_STATS_TIME_ZONE: 'UTC',
      QUEUE_STATS_CHANNELS: 'voice',
      QUEUE_HISTORY_ENABLED: 'false',
      WALLBOARD_KEY: KEY,
    },
  });
  try {
    const first = emu.requests.length;
    const ask = (runtime, by) => fetch(runtime.url(`/queue-history?${new URLSearchParams({ range: 'yesterday', by })}`), { headers: { Authorization: `Wallboard ${KEY}` } }).then((r) => r.json());
    let answers;
    for (let round = 0; round < 20; round++) {
      answers = await Promise.all([rt, second, rt, second, rt, second].map((runtime, i) => ask(runtime, ['hour', 'date', 'queue'][i % 3])));
      if (!answers.some((a) => a.missing.some((m) => m.code === 'pending'))) break;
    }
    for (const a of answers) assert.deepEqual(a.missing, []);
    // Every hour of the day was claimed (in the claims map, one item per hour, key YYYYMMDDTHHMMZ).
    const claimsMap = [...emu.state.sync.services.get(env.SYNC_SERVICE_SID).maps.values()].find((m) => m.uniqueName === 'queueHistoryClaims');
    const day = new Date(Date.now() - 86400000).toISOString().slice(0, 10).replace(/-/g, '');
    assert.equal([...claimsMap.items.keys()].filter((k) => k.startsWith(day)).length, 24);
    const perHour = taskrouter(first).filter((r) => /\/CumulativeStatistics$/.test(r.path) || (/\/Events$/.test(r.path) && r.query.EventType !== 'worker.activity.update'));
    const queries = perHour.map(queryOf);
    assert.equal(new Set(queries).size, queries.length, 'an hour was asked of TaskRouter twice');
    // A create answered 404 (no map yet) or 429 (the map's write budget: two containers each pace
    // to 80 % of it, and the executor repeats a 429) created nothing; every other create counts.
    const keys = itemCreates(first)
      .filter((r) => r.status !== 404 && r.status !== 429)
      .map((r) => `${r.path} ${r.body.Key}`);
    assert.equal(new Set(keys).size, keys.length, `an item was created twice: ${createdTwice(itemCreates(first))}`);
    assert.ok(!itemCreates(first).some((r) => r.status === 409));
  } finally {
    await second.stop();
  }
});

test('five concurrent 30-day requests backfill each hour once', async () => {
  const first = emu.requests.length;
  const stored = new Set(storedKeys());
  const rounds = [];
  let answers;
  // As the history view does: five groupings at once, again until nothing is pending.
  for (let round = 0; round < 40; round++) {
    answers = await Promise.all(['hour', 'date', 'hourOfDay', 'dayOfWeek', 'queue'].map((by) => history({ range: 'last30', by })));
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
    const pending = Math.max(...answers.map((a) => a.body.missing.filter((m) => m.code === 'pending').length));
    rounds.push(pending);
    if (!pending) break;
    for (const a of answers) for (const m of a.body.missing) assert.ok(['pending', 'expired'].includes(m.code), JSON.stringify(m));
  }
  assert.equal(rounds[rounds.length - 1], 0, `still pending after ${rounds.length} rounds: ${rounds}`);
  assert.deepEqual(answers[0].body.missing, []);
  // A create answered 404 (no map yet) or 429 (the map's write budget: under load a request the
  // pacer let go can reach the emulator late, inside the next one's second; the executor repeats a
  // 429) created nothing; every other create counts.
  const creates = itemCreates(first).filter((r) => r.status !== 404 && r.status !== 429);
  const backfilled = creates.filter((r) => r.status === 201 && /\/Maps\/queueHistory\.all\//.test(r.path)).length;
  assert.equal(answers[0].body.closedHours, backfilled + stored.size / 2, 'every closed hour stored, the new ones by this backfill');
  assert.ok(backfilled > 24 * 27, `hours backfilled: ${backfilled}`); // the earlier tests stored a day and a few hours

  // Each hour's TaskRouter queries were sent once, over all requests.
  const perHour = taskrouter(first).filter((r) => /\/CumulativeStatistics$/.test(r.path) || (/\/Events$/.test(r.path) && r.query.EventType !== 'worker.activity.update'));
  const counts = new Map();
  for (const r of perHour) counts.set(queryOf(r), (counts.get(queryOf(r)) || 0) + 1);
  const twice = [...counts.entries()].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'an hour was asked of TaskRouter twice');
  const events = perHour.filter((r) => /\/Events$/.test(r.path));
  assert.equal(events.length, 2 * backfilled, 'two Events listings per backfilled hour');
  // Per-invocation requests (queue list, workers, activity events) at most once per invocation.
  const invocations = rounds.length * 5;
  const shared = taskrouter(first).filter((r) => /\/TaskQueues$/.test(r.path) && r.method === 'GET');
  assert.ok(shared.length <= invocations, `${shared.length} TaskQueues lists for ${invocations} requests`);
  // No item written twice: every create is a new key, none refused as a duplicate.
  const keys = creates.map((r) => `${r.path} ${r.body.Key}`);
  assert.equal(new Set(keys).size, keys.length, `an item was created twice: ${createdTwice(creates)}`);
  assert.ok(!creates.some((r) => r.status === 409), 'a create was refused as a duplicate');
  assert.equal(creates.filter((r) => r.status === 201).length, 2 * backfilled, 'one item per hour in each of the two maps');
  console.log(
    `# 5 concurrent last30 requests × ${rounds.length} rounds: ${backfilled} hours backfilled, ${events.length} Events calls for ${new Set(events.map(queryOf)).size} distinct queries, ${creates.length} item creates for ${new Set(keys).size} keys`,
  );
});
