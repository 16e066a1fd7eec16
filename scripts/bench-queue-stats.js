#!/usr/bin/env node
// Queue statistics under load: ten synthetic minutes of TaskRouter events replayed against the
// emulator for 5, 50 and 500 queues at 5 and 50 events/s, in both layouts.
//
//   const { benchQueueStats, formatQueueStats } = require('./bench-queue-stats');
//   const rows = await benchQueueStats();   // [{queues, events_per_s, layout, taskrouter_calls_per_event, ...}]
//   console.log(formatQueueStats(rows));
//
// Alone: `node scripts/bench-queue-stats.js [--json] [--queues 50,500]` (after `npm run build`).
//
// What runs is the product's own code: the queue-stats wasm module, the updater of
// functions/common/queue-stats.private.js and the effects executor (functions/common/effects,
// which performs the crate's refresh, bulk and store machines), with the real `twilio` client,
// against the emulator's real routes (Sync's size-dependent write budget per object included:
// emulator/lib.js). Two things are simulated so ten minutes take seconds: the clock (a
// discrete-event scheduler: events arrive at their times, every API request takes LATENCY_MS,
// retries wait their backoff, the executor's pacer holds Sync writes and bulk requests) and the
// socket (the client's requests go to the emulator's handler in-process). Every request goes
// through effects.run's `io` (client, now, pace, retry). The updater is one warm container that
// receives every event as it arrives, concurrently, like TaskRouter's callbacks.
//
// Figures per case: TaskRouter API calls per event, successful Sync writes per event, the highest
// number of writes one Sync object took in one second and the share of its size-dependent budget
// they used (1 = all of it), the most bulk statistics requests in one second (the endpoint takes
// 5), the written records' sizes (p50, max), 429s met from Sync and from TaskRouter (each retried
// with the product's backoff), and staleness: for each event that changes a queue, the time until
// a record that reflects it is in Sync (p50 and p99, seconds; an event whose refresh failed waits
// for the next success, or the end of the run).
const os = require('os');
const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const twilio = require('twilio');
const { createEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');

// The executor's requires, as the Twilio runtime resolves them.
const common = path.join(__dirname, '..', 'functions', 'common');
global.Runtime = global.Runtime || {
  getAssets: () => ({}),
  getFunctions: () => Object.fromEntries(['http', 'deadline', 'client', 'wasm', 'effects', 'serial'].map((n) => [`common/${n}`, { path: path.join(common, `${n}.private.js`) }])),
};
const { createUpdater } = require('../functions/common/queue-stats.private.js');
const effects = require('../functions/common/effects.private.js');
const { createPacer } = require('../functions/common/effects.private.js');

const root = path.resolve(__dirname, '..');
const DURATION_S = 600;
const LATENCY_MS = 25;
const START = Date.parse('2025-03-04T15:00:00Z');

/** A small deterministic PRNG (mulberry32), so every run replays the same events. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Simulated time: timers in a binary heap, fired in order, promise chains flushed in between. */
class Sim {
  constructor(t) {
    this.t = t;
    this.heap = [];
    this.seq = 0;
  }

  now() {
    return this.t;
  }

  sleep(ms) {
    return new Promise((resolve) => this.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve }));
  }

  push(x) {
    const h = this.heap;
    h.push(x);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (this.less(h[p], h[i])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }

  less(a, b) {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  /** Runs every timer due up to `t` (all of them when `t` is Infinity), then sets the clock to `t`. */
  async advanceTo(t) {
    await flush();
    while (this.heap.length && this.heap[0].at <= t) {
      const next = this.pop();
      this.t = next.at;
      next.resolve();
      await flush();
    }
    if (t !== Infinity) this.t = Math.max(this.t, t);
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A `twilio` httpClient that hands each request to the emulator's handler, after LATENCY_MS of simulated time. */
class InProcessClient {
  constructor(emulator, sim) {
    this.emulator = emulator;
    this.sim = sim;
  }

  async request(opts) {
    await this.sim.sleep(LATENCY_MS);
    const target = new URL(opts.uri);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.params || {})) {
      if (v === undefined) continue;
      for (const x of [].concat(v)) query.append(k, String(x));
    }
    const headers = {};
    for (const [k, v] of Object.entries(opts.headers || {})) headers[k.toLowerCase()] = v;
    headers['x-forwarded-host'] = target.host;
    headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    let body = '';
    if (opts.data !== undefined && opts.data !== null) {
      if (/application\/json/i.test(headers['content-type'] || '')) body = JSON.stringify(opts.data);
      else {
        headers['content-type'] = headers['content-type'] || 'application/x-www-form-urlencoded';
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(opts.data)) {
          if (v === undefined) continue;
          for (const x of [].concat(v)) form.append(k, String(x));
        }
        body = form.toString();
      }
    }
    const search = query.toString();
    const req = {
      url: `${target.pathname}${search ? `?${search}` : ''}`,
      method: String(opts.method).toUpperCase(),
      headers,
      async *[Symbol.asyncIterator]() {
        if (body) yield Buffer.from(body);
      },
    };
    return new Promise((resolve, reject) => {
      let status = 0;
      let resHeaders = {};
      const res = {
        headersSent: false,
        writeHead(s, h) {
          status = s;
          resHeaders = h || {};
          this.headersSent = true;
        },
        end(text) {
          resolve({ statusCode: status, body: text || '', headers: resHeaders });
        },
        on() {},
        destroy() {
          reject(new Error('emulator dropped the connection'));
        },
      };
      this.emulator.handle(req, res).catch(reject);
    });
  }
}

/** The product's retry policy (5 retries of 429/503, 100..300 ms jittered backoff, 8 s budget) on simulated time. */
function simRetry(sim, random) {
  return async (fn) => {
    const started = sim.now();
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await fn();
      } catch (err) {
        const ceiling = Math.min(300, 100 * 2 ** attempt);
        const delay = 100 + random() * (ceiling - 100);
        if (!(err.status === 429 || err.status === 503) || attempt >= 5 || sim.now() - started + delay > 8000) throw err;
        await sim.sleep(delay);
      }
    }
  };
}

const LIFE = ['task.created', 'workflow.target-matched', 'task-queue.entered', 'reservation.created', 'reservation.accepted', 'task.wrapup', 'task.completed', 'reservation.completed'];
const ABANDONED = ['task.created', 'workflow.target-matched', 'task-queue.entered', 'task.canceled'];
const STEP = {
  'task-queue.entered': 'entered',
  'reservation.created': 'reserved',
  'reservation.accepted': 'accepted',
  'task.wrapup': 'wrapup',
  'task.completed': 'completed',
  'task.canceled': 'canceled',
};

/** One case: returns its row. */
async function runCase({ queues, eventsPerS, layout, seed = 1, board = false }) {
  const sim = new Sim(START);
  const random = rng(seed * 7919 + queues * 31 + eventsPerS);
  const emulator = createEmulator({ clock: { now: () => sim.now(), advance: () => 0 } });
  const env = emulator.functionEnv();
  const { ctx } = emulator;
  const wasm = require(path.join(root, 'functions', 'wasm', 'queue_stats.private.js'));
  // The parked calls are left off the board (`parked: false`): the figures are queue statistics' own.
  // `board`: also copy every record to the wallboard's Sync service (docs/wallboard.md).
  const settings = {
    QUEUE_STATS_LAYOUT: layout,
    QUEUE_STATS_TIME_ZONE: 'America/New_York',
    WORKSPACE_SID: env.WORKSPACE_SID,
    TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID,
    ...(board ? { WALLBOARD_SYNC_SID: env.WALLBOARD_SYNC_SID } : {}),
  };
  const qs = new wasm.QueueStats(settings, { parked: false });
  const client = twilio(env.ACCOUNT_SID, env.AUTH_TOKEN, { httpClient: new InProcessClient(emulator, sim) });
  const retry = simRetry(sim, random);
  // The executor as the function runs it, on the simulated clock (its pacer, the retry policy).
  const io = { resume: 'resumeQueueStats', client, retry, now: () => sim.now(), pace: createPacer({ now: () => sim.now(), sleep: (ms) => sim.sleep(ms) }) };
  const mod = { call: (fn) => fn(wasm, qs) };
  // The crate's machines (refresh, bulk, store) on the executor: every request goes through `io`.
  const updater = createUpdater({
    qs,
    machine: (start) => effects.run({}, mod, (w, instance) => start(instance), io),
    now: () => sim.now(),
  });

  // The contact center: queues, and workers each eligible for three of them.
  const qList = Array.from({ length: queues }, (_, i) => trs.createQueue(ctx, { friendlyName: `Queue ${i + 1}`, sid: ctx.lib.fixedSid('WQ', `bench-${i}`) }));
  const workers = Array.from({ length: Math.max(10, queues * 2) }, (_, i) => ctx.lib.fixedSid('WK', `bench-${i}`));
  workers.forEach((w, i) => {
    for (let k = 0; k < 3; k++) trs.addWorker(ctx, qList[(i + k * 7) % queues].sid, w, { activity: 'Available' });
  });

  const active = [];
  let taskNo = 0;
  const pending = new Map(); // queue SID -> event times not yet reflected in Sync
  const staleness = [];
  const inflight = new Set();
  const total = DURATION_S * eventsPerS;

  function nextEvent() {
    const r = random();
    if (r < 0.08) {
      const w = workers[Math.floor(random() * workers.length)];
      const worker = ctx.state.taskrouter.workspace.workers.get(w);
      const activity = worker.activityName === 'Available' ? 'Break' : 'Available';
      trs.setActivity(ctx, w, activity);
      return { fields: { EventType: 'worker.activity.update', ResourceType: 'Worker', ResourceSid: w, WorkerSid: w, WorkerActivityName: activity }, queue: null };
    }
    if (!active.length || random() < 1 / 7) {
      const c = random();
      active.push({
        sid: ctx.lib.fixedSid('WT', `bench-${taskNo++}`),
        queue: qList[Math.floor(random() * queues)],
        channel: c < 0.6 ? 'voice' : c < 0.9 ? 'chat' : 'video',
        steps: random() < 0.15 ? ABANDONED : LIFE,
        i: 0,
      });
    }
    const idx = Math.floor(random() * active.length);
    const task = active[idx];
    const type = task.steps[task.i];
    task.i += 1;
    if (task.i >= task.steps.length) active.splice(idx, 1);
    if (STEP[type]) trs.taskStep(ctx, task.queue.sid, task.sid, STEP[type], { channel: task.channel });
    const fields = { EventType: type, ResourceType: type.startsWith('reservation.') ? 'Reservation' : 'Task', TaskSid: task.sid, TaskChannelUniqueName: task.channel };
    if (type !== 'task.created' && !type.startsWith('workflow.')) {
      fields.TaskQueueSid = task.queue.sid;
      fields.TaskQueueName = task.queue.friendlyName;
    }
    return { fields, queue: fields.TaskQueueSid || null };
  }

  for (let i = 0; i < total; i++) {
    const at = START + Math.floor((i * 1000) / eventsPerS);
    await sim.advanceTo(at);
    const { fields, queue } = nextEvent();
    if (queue) {
      if (!pending.has(queue)) pending.set(queue, []);
      pending.get(queue).push(at);
    }
    const p = updater.handle(fields).then(async (summary) => {
      // Staleness counts until the record is really written, even past the answer's deadline.
      const ok = (await summary.settled).length === 0;
      if (queue && ok) {
        const waiting = pending.get(queue) || [];
        const keep = [];
        for (const t of waiting) t <= at ? staleness.push((sim.now() - t) / 1000) : keep.push(t);
        pending.set(queue, keep);
      } else if (!queue && summary.plan.action !== 'none') {
        staleness.push(ok ? (sim.now() - at) / 1000 : DURATION_S);
      }
    });
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  }
  await sim.advanceTo(Infinity);
  await Promise.all(inflight);
  const end = sim.now();
  for (const times of pending.values()) for (const t of times) staleness.push((end - t) / 1000);

  // Figures from the emulator's request log.
  let trCalls = 0;
  let syncWrites = 0;
  const http429 = { sync: 0, taskrouter: 0, other: 0 };
  const perObjectSecond = new Map();
  const budgetPerObjectSecond = new Map();
  const bulkPerSecond = new Map();
  const recordBytes = [];
  for (const r of emulator.requests) {
    if (r.status === 429) http429[r.product in http429 ? r.product : 'other'] += 1;
    if (r.product === 'taskrouter') trCalls += 1;
    if (r.product === 'taskrouter' && r.method === 'POST' && r.path.endsWith('/TaskQueues/RealTimeStatistics')) bulkPerSecond.set(r.at, (bulkPerSecond.get(r.at) || 0) + 1);
    if (r.product === 'sync' && r.method !== 'GET' && r.status >= 200 && r.status < 300) {
      syncWrites += 1;
      // Objects are per service (the wallboard's copy has budgets of its own).
      const m = /\/Services\/([^/]+)\/(Maps|Documents)\/([^/]+)/.exec(r.path);
      const object = m ? `${m[1]}/${m[2]}:${m[3]}` : `Documents:${(r.body && r.body.UniqueName) || r.path}`;
      const key = `${object}|${r.at}`;
      perObjectSecond.set(key, (perObjectSecond.get(key) || 0) + 1);
      const bytes = r.body && r.body.Data !== undefined ? Buffer.byteLength(JSON.stringify(JSON.parse(r.body.Data)), 'utf8') : 0;
      budgetPerObjectSecond.set(key, (budgetPerObjectSecond.get(key) || 0) + ctx.lib.syncWriteCost(bytes));
      if (r.body && r.body.Data !== undefined && !/queueStats\.index/.test(r.path)) recordBytes.push(bytes);
    }
  }
  staleness.sort((a, b) => a - b);
  recordBytes.sort((a, b) => a - b);
  const pct = (q) => (staleness.length ? staleness[Math.min(staleness.length - 1, Math.floor(staleness.length * q))] : 0);
  const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    queues,
    events_per_s: eventsPerS,
    layout,
    taskrouter_calls_per_event: round(trCalls / total),
    sync_writes_per_event: round(syncWrites / total),
    max_object_writes_per_s: Math.max(0, ...perObjectSecond.values()),
    // Sync's size-dependent budget (emulator/lib.js syncWriteCost): 1 = an object's whole second.
    max_object_budget_used: round(Math.max(0, ...budgetPerObjectSecond.values()), 2),
    max_bulk_requests_per_s: Math.max(0, ...bulkPerSecond.values()),
    record_bytes_p50: recordBytes.length ? recordBytes[Math.floor(recordBytes.length / 2)] : 0,
    record_bytes_max: recordBytes.length ? recordBytes[recordBytes.length - 1] : 0,
    http_429: http429.sync + http429.taskrouter + http429.other,
    http_429_sync: http429.sync,
    http_429_taskrouter: http429.taskrouter,
    staleness_p50_s: round(pct(0.5), 2),
    staleness_p99_s: round(pct(0.99), 2),
  };
}

/**
 * Every case, spread over up to two worker threads (the cases are independent; a 50 events/s
 * case is ten times the work of a 5 events/s one, so they are dealt out alternately).
 */
async function benchQueueStats({
  queues = [5, 50, 500],
  rates = [5, 50],
  layouts = ['map', 'documents'],
  threads = Math.min(2, os.availableParallelism ? os.availableParallelism() : os.cpus().length),
} = {}) {
  const cases = [];
  for (const q of queues) for (const r of rates) for (const layout of layouts) cases.push({ queues: q, eventsPerS: r, layout });
  const order = cases.map((c, i) => ({ c, i })).sort((a, b) => b.c.eventsPerS - a.c.eventsPerS);
  const shares = Array.from({ length: Math.max(1, threads) }, () => []);
  order.forEach((x, k) => shares[k % shares.length].push(x));
  const rows = new Array(cases.length);
  await Promise.all(
    shares.map(
      (share) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(__filename, { workerData: share });
          worker.on('message', ({ i, row }) => (rows[i] = row));
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench worker exited with ${code}`))));
        }),
    ),
  );
  return rows;
}

function formatQueueStats(rows) {
  const head = [
    'queues',
    'events/s',
    'layout',
    'TR calls/event',
    'Sync writes/event',
    'max writes/s on one object',
    'max budget used',
    'max bulk/s',
    'record bytes p50',
    'max',
    '429s Sync',
    'TaskRouter',
    'staleness p50 (s)',
    'p99',
  ];
  const lines = rows.map((r) =>
    [
      r.queues,
      r.events_per_s,
      r.layout,
      r.taskrouter_calls_per_event,
      r.sync_writes_per_event,
      r.max_object_writes_per_s,
      r.max_object_budget_used,
      r.max_bulk_requests_per_s,
      r.record_bytes_p50,
      r.record_bytes_max,
      r.http_429_sync,
      r.http_429_taskrouter,
      r.staleness_p50_s,
      r.staleness_p99_s,
    ].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [
    `Queue statistics: ${DURATION_S / 60} simulated minutes of TaskRouter events per case, ${LATENCY_MS} ms per API request`,
    '(the published function: 1 + 8 x queues TaskRouter calls and one Sync write per queue, per event)',
    fmt(head),
    ...lines.map(fmt),
  ].join('\n');
}

module.exports = { benchQueueStats, formatQueueStats, runCase };

if (!isMainThread && workerData) {
  (async () => {
    for (const { c, i } of workerData) parentPort.postMessage({ i, row: await runCase(c) });
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else if (require.main === module) {
  (async () => {
    const t0 = Date.now();
    // `--queues 50,500`: only those sizes.
    const at = process.argv.indexOf('--queues');
    const rows = await benchQueueStats(at > 0 ? { queues: process.argv[at + 1].split(',').map(Number) } : {});
    if (process.argv.includes('--json')) console.log(JSON.stringify({ queue_stats: rows }, null, 2));
    else console.log(`${formatQueueStats(rows)}\n(${((Date.now() - t0) / 1000).toFixed(1)} s wall time)`);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
