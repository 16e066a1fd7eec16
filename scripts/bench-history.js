#!/usr/bin/env node
// Queue history's costs, measured on the product's own code (crates/history-machines' machines on
// the functions' executor, functions/common/effects, through scripts/queue-history-machine.js) with
// the real `twilio` client against the emulator over loopback HTTP, on a manual clock:
//
// 1. the event callback's hook: 50 queues, 5 events/s for three simulated hours; TaskRouter calls,
//    Sync reads and writes per event (mean and the most in one event), the most writes the
//    history map took in one second;
// 2. closing one hour of 50 queues (what the hook spreads over events, and what a backfill costs);
// 3. GET /queue-history's work for 30 days × 50 queues (every hour stored): wall time per
//    grouping (median of 5), Sync list requests, answer size.
// 4. backfill once: five concurrent requests for the same 24 missing hours of 50 queues (what the
//    history view fires), in one container and in five containers, each request with a 9 s
//    budget on the simulated clock and asked again until nothing is pending: TaskRouter calls,
//    Events calls against distinct Events queries, history item creates against distinct keys,
//    claim writes — from the emulator's request log.
//
//   const { benchHistory, formatHistory } = require('./bench-history');
//   Alone: `node scripts/bench-history.js [--json]` (after `npm run build`).
const path = require('path');
const { startEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');
const { historyMachines } = require('./queue-history-machine');
const { createPacer } = require('../functions/common/effects.private.js');
const { clientFor } = require('./seed-history');

const root = path.resolve(__dirname, '..');
const QUEUES = 50;
const ENV = { QUEUE_STATS_TIME_ZONE: 'America/New_York' };

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function setup(start, containers = 1) {
  let t = start;
  const clock = { now: () => t, advance: (ms) => ((t += Number(ms) || 0), t) };
  const emulator = await startEmulator({ port: 0, clock });
  for (let i = 0; i < QUEUES; i++) {
    const q = trs.createQueue(emulator.ctx, { friendlyName: `Queue ${String(i + 1).padStart(2, '0')}` });
    trs.addWorker(emulator.ctx, q.sid, `WK${String(i).padStart(32, '0')}`, { activity: 'Available' });
  }
  const wasm = require(path.join(root, 'functions', 'wasm', 'history.private.js'));
  const env = emulator.functionEnv();
  const h = new wasm.History(ENV);
  const budget = { deadline: Infinity };
  // Another container beside this one shares the maps' write budgets: 429s are retried, as
  // functions/common/client's withRetry does.
  const retry = async (fn, attempt = 0) => {
    try {
      return await fn();
    } catch (err) {
      // A keep-alive socket the loopback server closed while idle (busy shared machine) is reset.
      if ((err.status !== 429 && err.code !== 'ECONNRESET') || attempt >= 8) throw err;
      clock.advance(250);
      return retry(fn, attempt + 1);
    }
  };
  // One "container" each: its own owner, pacer (on the simulated clock) and hook memory.
  const make = () =>
    historyMachines({
      context: env,
      env: ENV,
      client: clientFor(emulator),
      now: clock.now,
      retry,
      pace: createPacer({ now: clock.now, sleep: async (ms) => void clock.advance(ms) }),
    });
  const history = make();
  const others = Array.from({ length: containers - 1 }, make);
  return { emulator, clock, h, history, containers: [history, ...others], budget };
}

/** The most writes one history map took in one second, and the 429s met, from the emulator's request log. */
function historyWrites(emulator) {
  const perSecond = new Map();
  let rejected = 0;
  for (const r of emulator.requests) {
    const m = /\/Maps\/(queueHistory[^/]*)/.exec(r.path || '');
    if (r.method === 'GET' || !m) continue;
    if (r.status === 429) rejected += 1;
    const key = `${m[1]}@${Math.floor(Date.parse(r.at) / 1000)}`;
    perSecond.set(key, (perSecond.get(key) || 0) + 1);
  }
  return { most: Math.max(0, ...perSecond.values()), rejected };
}

async function benchHook() {
  const start = Date.parse('2026-11-16T14:00:30Z');
  const { emulator, clock, history } = await setup(start);
  const events = 3 * 3600 * 5;
  const total = { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 };
  const most = { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 };
  let busy = 0;
  for (let i = 0; i < events; i++) {
    clock.advance(200);
    const c = await history.tick();
    for (const k of Object.keys(total)) {
      total[k] += c[k];
      most[k] = Math.max(most[k], c[k]);
    }
    if (c.taskrouterCalls || c.syncReads || c.syncWrites) busy += 1;
  }
  const hours = history.counts; // all three closings
  const row = {
    queues: QUEUES,
    events,
    events_per_s: 5,
    taskrouter_calls_per_event: Number((total.taskrouterCalls / events).toFixed(4)),
    sync_reads_per_event: Number((total.syncReads / events).toFixed(4)),
    sync_writes_per_event: Number((total.syncWrites / events).toFixed(4)),
    most_taskrouter_calls_in_one_event: most.taskrouterCalls,
    most_sync_writes_in_one_event: most.syncWrites,
    events_with_history_work: busy,
    max_history_map_writes_per_s: historyWrites(emulator).most,
    history_map_429s: historyWrites(emulator).rejected,
    hours_closed: hours.syncWrites > 0 ? 3 : 0,
  };
  await emulator.close();
  return row;
}

async function benchCloseHour() {
  const start = Date.parse('2026-11-16T15:05:00Z');
  const { emulator, clock, history } = await setup(start);
  const { queues } = await history.close([]);
  const t0 = performance.now();
  const s0 = clock.now();
  const closed = await history.close(['2026-11-16T14:00:00Z'], queues);
  const ms = performance.now() - t0;
  const simulated = clock.now() - s0;
  if (closed.closed.length !== 1) throw new Error(`bench: the hour was not closed: ${JSON.stringify(closed.notes)}`);
  const row = {
    queues: QUEUES,
    taskrouter_calls: closed.taskrouterCalls,
    sync_writes: closed.syncWrites,
    ms_in_process: Math.round(ms),
    simulated_ms: simulated,
  };
  await emulator.close();
  return row;
}

async function benchQuery() {
  const now = Date.parse('2026-11-16T15:30:00Z');
  const { emulator, clock, h, history } = await setup(now);
  // 30 days × 50 queues of stored hours (every channel), built by the product's item builder.
  const client = clientFor(emulator);
  const env = emulator.functionEnv();
  const maps = client.sync.v1.services(env.SYNC_SERVICE_SID).syncMaps;
  for (const channel of ['all', 'voice', 'chat', 'video']) await maps.create({ uniqueName: h.mapName(channel) });
  const query = h.query({ range: 'last30' }, now);
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const queues = [...emulator.ctx.state.taskqueues.queues.values()];
  let written = 0;
  for (const hour of query.closed) {
    const stats = () => {
      const acc = Math.floor(rand() * 30);
      return {
        tasks_entered: acc + 3,
        reservations_accepted: acc,
        tasks_canceled: 3,
        wait_duration_until_accepted: { total: acc * 20, max: 90 },
        wait_duration_until_canceled: { total: 60 },
        split_by_wait_time: { 30: { below: { reservations_accepted: acc - 1, tasks_canceled: 2 }, above: { reservations_accepted: 1, tasks_canceled: 1 } } },
      };
    };
    const input = {
      queues: queues.map((q) => ({
        sid: q.sid,
        friendlyName: q.friendlyName,
        cumulative: { all: stats(), voice: stats(), chat: stats(), video: stats() },
        workers: { activity_durations: [{ friendly_name: 'Available', total: 3600 }] },
      })),
      events: [],
    };
    for (const item of h.hourItems(hour, input)) {
      clock.advance(Math.ceil(item.cost * 1000)); // within the map's size-dependent write budget
      await maps(item.map).syncMapItems.create({ key: item.key, data: item.data });
      written += 1;
    }
  }
  const rows = [];
  for (const by of ['hour', 'hourOfDay', 'dayOfWeek', 'date', 'queue']) {
    const samples = [];
    let answer;
    let reads = 0;
    for (let i = 0; i < 5; i++) {
      const r0 = history.counts.syncReads;
      const t0 = performance.now();
      answer = await history.series({ range: 'last30', by });
      samples.push(performance.now() - t0);
      reads = history.counts.syncReads - r0;
      if (answer.missing.length) throw new Error(`bench: ${answer.missing.length} hours missing`);
    }
    rows.push({ by, hours: answer.closedHours, queues: answer.queues.length, ms: Math.round(median(samples)), sync_list_requests: reads, answer_bytes: JSON.stringify(answer).length });
  }
  await emulator.close();
  return { items: written, rows };
}

/** Five concurrent requests for the same 24 missing hours, until nothing is pending. */
async function benchBackfill(containers) {
  const now = Date.parse('2026-11-17T00:30:00Z');
  const { emulator, clock, containers: instances, budget } = await setup(now, containers);
  const params = { from: '2026-11-16T00:00:00Z', to: '2026-11-17T00:00:00Z', by: 'hour' };
  let rounds = 0;
  let answers;
  const t0 = performance.now();
  for (; rounds < 50;) {
    rounds += 1;
    budget.deadline = clock.now() + 8500; // FUNCTION_BUDGET_MS 9000 less the answer margin
    answers = await Promise.all(Array.from({ length: 5 }, (_, i) => instances[i % instances.length].series(params, { deadlineMs: budget.deadline })));
    if (!answers.some((a) => a.missing.some((m) => m.code === 'pending'))) break;
  }
  const ms = performance.now() - t0;
  const requests = emulator.requests.filter((r) => r.status !== 429);
  const key = (r) => `${r.path}?${new URLSearchParams(Object.entries(r.query).sort())}`;
  const taskrouter = requests.filter((r) => /\/Workspaces\//.test(r.path));
  const events = taskrouter.filter((r) => /\/Events$/.test(r.path));
  // A create answered 404 wrote nothing (the map did not exist yet; it is created, then the item).
  const creates = requests.filter((r) => r.method === 'POST' && r.status !== 404 && /\/Maps\/queueHistory\.[^/]+\/Items$/.test(r.path));
  const claims = requests.filter((r) => r.method === 'POST' && /\/Maps\/queueHistoryClaims\/Items/.test(r.path));
  const hourly = taskrouter.filter((r) => r.query.StartDate && !/worker\.activity/.test(r.query.EventType || ''));
  const row = {
    queues: QUEUES,
    hours: answers[0].closedHours,
    containers,
    requests: 5 * rounds,
    rounds,
    missing_after: answers[0].missing.length,
    taskrouter_calls: taskrouter.length,
    events_calls: events.length,
    distinct_events_queries: new Set(events.map(key)).size,
    hourly_queries_repeated: hourly.length - new Set(hourly.map(key)).size,
    item_creates: creates.length,
    distinct_item_keys: new Set(creates.map((r) => `${r.path} ${r.body.Key}`)).size,
    item_duplicates_refused: creates.filter((r) => r.status === 409).length,
    claims_won: claims.filter((r) => r.status === 200 || r.status === 201).length,
    claims_refused: claims.filter((r) => r.status === 409 || r.status === 412).length,
    ms_in_process: Math.round(ms),
  };
  await emulator.close();
  return row;
}

async function benchHistory() {
  return { hook: await benchHook(), close_hour: await benchCloseHour(), query: await benchQuery(), backfill: [await benchBackfill(1), await benchBackfill(5)] };
}

function formatHistory(f) {
  const k = f.hook;
  const lines = [
    `queue history — event callback hook (${k.queues} queues, ${k.events_per_s} events/s, ${k.events} events = 3 simulated hours)`,
    `  TaskRouter calls/event ${k.taskrouter_calls_per_event}, Sync reads/event ${k.sync_reads_per_event}, Sync writes/event ${k.sync_writes_per_event}`,
    `  most in one event: ${k.most_taskrouter_calls_in_one_event} TaskRouter calls, ${k.most_sync_writes_in_one_event} Sync writes; ${k.events_with_history_work} of ${k.events} events did any history work`,
    `  history maps: at most ${k.max_history_map_writes_per_s} writes in one second on one map, ${k.history_map_429s} 429s (size-dependent budget: 2/s for items from 10 KiB)`,
    `queue history — closing one hour of ${f.close_hour.queues} queues: ${f.close_hour.taskrouter_calls} TaskRouter calls, ${f.close_hour.sync_writes} Sync writes, ${f.close_hour.ms_in_process} ms in process (${f.close_hour.simulated_ms} ms of simulated time with write pacing)`,
    `queue history — GET /queue-history, 30 days × ${QUEUES} queues stored (${f.query.items} Sync items), range=last30, queue=all:`,
    ...f.query.rows.map((r) => `  by=${r.by.padEnd(10)} ${String(r.ms).padStart(5)} ms   ${r.hours} hours, ${r.queues} queues, ${r.sync_list_requests} Sync list requests, ${r.answer_bytes} bytes`),
    `queue history — backfill once: 5 concurrent requests for the same ${f.backfill[0].hours} missing hours of ${f.backfill[0].queues} queues (9 s budget each, asked again until nothing is pending):`,
    ...f.backfill.map(
      (b) =>
        `  ${b.containers === 1 ? 'one container  ' : `${b.containers} containers   `} ${b.requests} requests (${b.rounds} rounds), ${b.missing_after} hours missing after; ${b.taskrouter_calls} TaskRouter calls; Events ${b.events_calls} calls for ${b.distinct_events_queries} distinct queries; ${b.hourly_queries_repeated} hourly queries repeated; item creates ${b.item_creates} for ${b.distinct_item_keys} keys (${b.item_duplicates_refused} refused as duplicates); claims ${b.claims_won} won, ${b.claims_refused} refused; ${b.ms_in_process} ms in process`,
    ),
  ];
  return lines.join('\n');
}

module.exports = { benchHistory, benchBackfill, formatHistory };

if (require.main === module) {
  benchHistory()
    .then((f) => console.log(process.argv.includes('--json') ? JSON.stringify(f) : formatHistory(f)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
