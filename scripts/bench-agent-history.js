#!/usr/bin/env node
// Agent history's costs, measured on the product's own code (the agent-history wasm module,
// crates/agent-history's hook machine, scripts/agent-history-hook.js with the functions' executor,
// for the hook, functions/common/effects.private.js for GET /agent-history's machine) with the real `twilio` client against the emulator over loopback
// HTTP:
//
// 1. the event callback's hook: the emulator's agents (emulator/agent-activity.js) play a day
//    each, every event recorded as the hook does; Sync reads and writes and TaskRouter calls per
//    event (mean and most), wall time per event in process (median, 95th percentile), the largest
//    record; then every event again (duplicates): writes.
// 2. GET /agent-history's work for 30 days × 200 agents (the crate's synthetic month, 24 tasks per
//    agent-day, stored straight into the emulator's Sync state): wall time for by=hour and by=agent
//    (one request each: a run is long), Twilio requests, records read, answer size, and the
//    aggregation alone.
//
// 3. (default) the same month from closed hours and days (benchClosed): every hour closed with the
//    module's closeHour into agentHours, every whole day summed with buildDay into agentDays and
//    agentDayHours, then GET /agent-history's machine (startAgentHistory) on the functions'
//    executor (common/effects) in process, as the function runs it (not through twilio-run), for
//    every selection (all, one agent, 10 agents, a team of half) × every grouping, printed as a
//    table; beside it the machine alone (its listings answered in process) and the emulator
//    answering the machine's listings alone. `--closed` runs this step only; `--events` runs
//    step 1 and the whole hook (benchHook: the record, late events and closing, clock at each
//    event) only.
//    Step 2 (from records, minutes long) runs only with --records.
//
//   const { benchAgentHistory, formatAgentHistory } = require('./bench-agent-history');
//   Alone: `node scripts/bench-agent-history.js [--json] [--records]` (after `npm run build`).
const path = require('path');
const { startEmulator } = require('../emulator');
const aa = require('../emulator/agent-activity');
const { agentHistoryHook } = require('./agent-history-hook');
const { clientFor } = require('./seed-history');

const root = path.resolve(__dirname, '..');
const ENV = { QUEUE_STATS_TIME_ZONE: 'America/New_York' };
const DAY = 86400000;

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

function loadModule() {
  const wasm = require(path.join(root, 'functions', 'wasm', 'agent_history.private.js'));
  return new wasm.AgentHistory(ENV);
}

async function retry(fn, attempt = 0) {
  try {
    return await fn();
  } catch (err) {
    // ECONNABORTED: the client's 30 s timeout, met by the slowest listings on a loaded machine.
    if ((err.status !== 429 && err.code !== 'ECONNRESET' && err.code !== 'ECONNABORTED') || attempt >= 5) throw err;
    await new Promise((r) => setTimeout(r, 50));
    return retry(fn, attempt + 1);
  }
}

/**
 * GET /agent-history as the function runs it: crates/agent-history's machine (startAgentHistory)
 * on the functions' executor (common/effects, the real `twilio` client against the emulator).
 * `series(params)` answers and counts the effects; `local(params)` runs the same machine with its
 * listings answered from the emulator's state in this process (no HTTP): the machine's own time.
 */
function machineReader(emulator, now) {
  const common = path.join(root, 'functions', 'common');
  global.Runtime = global.Runtime || {
    getFunctions: () => Object.fromEntries(['http', 'deadline', 'client', 'wasm', 'effects'].map((n) => [`common/${n}`, { path: path.join(common, `${n}.private.js`) }])),
    getAssets: () => ({}),
  };
  const effects = require(path.join(common, 'effects.private.js'));
  const { wasmModule } = require(path.join(common, 'wasm.private.js'));
  const mod = wasmModule('agent_history');
  const context = { ...emulator.functionEnv(), ...ENV };
  const env = { ...ENV, WORKSPACE_SID: context.WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: context.TWILIO_FLEX_SYNC_SID }; // the services are settings too
  const counts = { requests: 0 };
  const counted = {
    call: (fn) => {
      const step = mod.call(fn);
      if (step && step.run) counts.requests += step.run.length;
      return step;
    },
  };
  const start = (params) => (wasm) => wasm.startAgentHistory(params, env, { names: true }, now);
  const service = emulator.state.sync.services.get(context.SYNC_SERVICE_SID);
  const list = (op) => {
    const map = [...service.maps.values()].find((m) => m.uniqueName === op.map);
    if (!map) return { ok: false, attempted: true, status: 404, code: 20404, message: 'not found' };
    const keys = [...map.items.keys()].filter((k) => (op.bounds === 'exclusive' ? k > op.from : k >= op.from)).sort();
    return { ok: true, value: keys.slice(0, op.limit).map((k) => ({ key: k, data: map.items.get(k).data, revision: '0' })) };
  };
  const local = (params) => {
    const ops = [];
    let step = mod.call(start(params));
    while (step.run) {
      const { state, run } = step;
      for (const e of run) if (e.op.kind === 'listSyncItems') ops.push(e.op);
      const outcomes = run.map((e) => (e.op.kind === 'listSyncItems' ? list(e.op) : { ok: false, attempted: false, message: 'not in this benchmark' }));
      step = mod.call((wasm) => wasm.resume(state, outcomes, now));
    }
    return { answer: step.answer, ops };
  };
  const series = async (params) => {
    const answer = await effects.run(context, counted, start(params), { text: true });
    if (answer.status !== 200) throw new Error(`GET /agent-history: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  return { series, local, counts };
}

/**
 * The whole hook per event (the record, late events, closing hours and days) as the event
 * callback runs it, its clock at each event's instant (a second after it): closing work is spread
 * over the events of the day. Counts per event: Sync requests of the record, of the closing
 * (`closing`) and of late events (`reclose`); wall time in process.
 */
async function benchHook({ agents = 10, days = 1 } = {}) {
  const emulator = await startEmulator({ port: 0 });
  try {
    const env = emulator.functionEnv();
    // The emulator's clock is held at each event (playDays); the hook's clock is a second later,
    // and the pacing's waits move the emulator's clock on (its Sync rate limit counts on it).
    const clock = emulator.ctx.clock;
    const history = agentHistoryHook({ context: env, env: ENV, now: () => clock.now() + 1000, pacer: { now: () => clock.now(), sleep: async (ms) => clock.hold(clock.now() + ms) } });
    const per = [];
    await aa.playDays(emulator.ctx, {
      days,
      agents,
      seed: 11,
      onEvent: async (params) => {
        const t0 = performance.now();
        const r = await history.hook(params);
        const part = (x) => (x && !x.error ? (x.syncReads || 0) + (x.syncWrites || 0) : 0);
        per.push({
          ms: performance.now() - t0,
          record: (r.syncReads || 0) + (r.syncWrites || 0),
          closing: part(r.closing),
          reclose: part(r.reclose),
          errors: [r.error, r.closing && r.closing.error, r.reclose && r.reclose.error].filter(Boolean).length,
          closed: r.closing && r.closing.closed !== undefined ? 1 : 0,
        });
      },
    });
    const sum = (k) => per.reduce((n, x) => n + x[k], 0);
    const most = (k) => Math.max(...per.map((x) => x[k]));
    return {
      events: per.length,
      hours_closed: sum('closed'),
      requests_per_event: Number(((sum('record') + sum('closing') + sum('reclose')) / per.length).toFixed(3)),
      closing_requests: sum('closing'),
      most_closing_requests: most('closing'),
      reclose_requests: sum('reclose'),
      errors: sum('errors'),
      ms_median: Number(median(per.map((x) => x.ms)).toFixed(2)),
      ms_p95: Number(
        pct(
          per.map((x) => x.ms),
          0.95,
        ).toFixed(2),
      ),
      ms_max: Number(Math.max(...per.map((x) => x.ms)).toFixed(1)),
    };
  } finally {
    await emulator.close();
  }
}

async function benchEvents({ agents = 10, days = 1 } = {}) {
  const emulator = await startEmulator({ port: 0 });
  try {
    const env = emulator.functionEnv();
    // Pacing waits on a manual clock: the figures are the work, not the waits for the budget.
    let t = Date.now();
    const history = agentHistoryHook({ context: env, env: ENV, now: () => t, pacer: { now: () => t, sleep: async (ms) => (t += ms) } });
    const per = [];
    const events = [];
    await aa.playDays(emulator.ctx, {
      days,
      agents,
      seed: 11,
      onEvent: async (params) => {
        events.push(params);
        const t0 = performance.now();
        const r = await history.record(params);
        per.push({ ms: performance.now() - t0, ...r });
        t += 50;
      },
    });
    const service = emulator.state.sync.services.get(env.SYNC_SERVICE_SID);
    const sizes = [...service.maps.values()].filter((m) => m.uniqueName.startsWith('agentHistory.')).flatMap((m) => [...m.items.values()].map((i) => JSON.stringify(i.data).length));
    let duplicateWrites = 0;
    for (const params of events) duplicateWrites += (await history.record(params)).syncWrites;
    const steady = per.slice(10); // past each map's creation and the first listing of activities
    const mean = (k) => steady.reduce((s, x) => s + x[k], 0) / steady.length;
    return {
      agents,
      days,
      events: per.length,
      sync_reads_per_event: Number(mean('syncReads').toFixed(3)),
      sync_writes_per_event: Number(mean('syncWrites').toFixed(3)),
      taskrouter_calls: per.reduce((s, x) => s + x.taskrouterCalls, 0),
      most_sync_reads: Math.max(...per.map((x) => x.syncReads)),
      most_sync_writes: Math.max(...per.map((x) => x.syncWrites)),
      ms_median: Number(median(per.map((x) => x.ms)).toFixed(2)),
      ms_p95: Number(
        pct(
          per.map((x) => x.ms),
          0.95,
        ).toFixed(2),
      ),
      records: sizes.length,
      largest_record_bytes: Math.max(...sizes),
      duplicate_writes: duplicateWrites,
    };
  } finally {
    await emulator.close();
  }
}

async function benchQuery({ agents = 200, days = 30, progress = () => {}, groupings = ['hour', 'agent'], samples: rounds = 1 } = {}) {
  const now = Date.parse('2026-11-16T15:30:00Z');
  const emulator = await startEmulator({ port: 0 });
  try {
    const env = emulator.functionEnv();
    const ah = loadModule();
    const start = Math.floor(now / DAY) * DAY - (days + 1) * DAY;
    const items = JSON.parse(ah.benchItems(agents, days + 1, start));
    // Stored straight into the emulator's Sync state (the write path is measured above).
    const service = emulator.state.sync.services.get(env.SYNC_SERVICE_SID);
    const maps = new Map();
    for (const item of items) {
      if (!maps.has(item.map)) {
        const m = { sid: emulator.ctx.lib.newSid('MP'), uniqueName: item.map, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null, items: new Map() };
        service.maps.set(m.sid, m);
        maps.set(item.map, m);
      }
      maps.get(item.map).items.set(item.key, { key: item.key, data: item.data, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null });
    }
    // The directory: 200 workers with names and teams.
    for (let a = 0; a < agents; a++) {
      const sid = `WK${a.toString(16).padStart(32, '0')}`;
      const w = require('../emulator/taskrouter').ensureWorker(emulator.ctx, sid, `Agent ${a}`);
      w.attributes = JSON.stringify({ team_name: a % 2 ? 'Blue' : 'Green' });
    }
    const reader = machineReader(emulator, now);
    progress(`${items.length} records stored`);
    const rows = [];
    for (const by of groupings) {
      const samples = [];
      const wasmMs = [];
      let answer;
      let reads = 0;
      for (let i = 0; i < rounds; i++) {
        const r0 = reader.counts.requests;
        const t0 = performance.now();
        answer = await reader.series({ range: 'last30', by });
        samples.push(performance.now() - t0);
        reads = reader.counts.requests - r0;
      }
      // The aggregation alone, on the same records.
      const query = ah.query({ range: 'last30', by }, now);
      const text = `[${items.map((x) => JSON.stringify(x.data)).join(',')}]`;
      const t1 = performance.now();
      ah.aggregate(query, text, [], true);
      wasmMs.push(performance.now() - t1);
      progress(`by=${by}: ${Math.round(median(samples))} ms`);
      rows.push({
        by,
        ms: Math.round(median(samples)),
        aggregate_ms: Math.round(median(wasmMs)),
        sync_list_requests: reads,
        records: answer.records,
        rows: answer.series.length,
        answer_bytes: JSON.stringify(answer).length,
      });
    }
    return { agents, days, items: items.length, item_bytes: items.reduce((s, x) => s + JSON.stringify(x.data).length, 0), rows };
  } finally {
    await emulator.close();
  }
}

const BYS = ['hour', 'date', 'dayOfWeek', 'agent', 'activity', 'disposition'];

/** Every selection (all, one agent, several, a team) × every grouping. */
function closedGroupings(agents) {
  const sid = (a) => `WK${a.toString(16).padStart(32, '0')}`;
  const several = Array.from({ length: 10 }, (_, i) => sid((i * 17) % agents)).join(',');
  const selections = [
    { label: 'all', agent: undefined },
    { label: 'one', agent: sid(7 % agents) },
    { label: 'several (10)', agent: several },
    { label: `team (${Math.ceil(agents / 2)})`, agent: 'team:Blue' },
  ];
  return selections.flatMap((s) => BYS.map((by) => ({ by, ...(s.agent ? { agent: s.agent } : {}), selection: s.label })));
}

/**
 * GET /agent-history's work from closed hours and days: the same synthetic month, every hour of
 * last30 closed with the module's closeHour (as the hook does, in process) into the emulator's
 * agentHours map, and every whole local day summed with dayItems into agentDays (as the hook does
 * after a day's last hour); then the same requests as benchQuery, and the parts alone: the wasm
 * answer on the same items, and the emulator answering the same listings.
 */
async function benchClosed({ agents = 200, days = 30, progress = () => {}, groupings = closedGroupings(agents), samples: rounds = 3 } = {}) {
  const now = Date.parse('2026-11-16T15:30:00Z');
  const emulator = await startEmulator({ port: 0 });
  try {
    const env = emulator.functionEnv();
    const ah = loadModule();
    const start = Math.floor(now / DAY) * DAY - (days + 1) * DAY;
    const items = JSON.parse(ah.benchItems(agents, days + 1, start));
    const byHour = new Map(); // UTC hour key prefix -> texts
    for (const item of items) {
      const k = item.key.slice(0, 12);
      if (!byHour.has(k)) byHour.set(k, []);
      byHour.get(k).push(JSON.stringify(item.data));
    }
    const service = emulator.state.sync.services.get(env.SYNC_SERVICE_SID);
    const newMap = (uniqueName) => {
      const m = { sid: emulator.ctx.lib.newSid('MP'), uniqueName, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null, items: new Map() };
      service.maps.set(m.sid, m);
      return m;
    };
    const m = newMap('agentHours');
    const dm = newMap('agentDays');
    const xm = newMap('agentDayHours');
    // The directory at closing (the same as the emulator's workers below): teams Blue and Green.
    const workers = Array.from({ length: agents }, (_, a) => ({
      sid: `WK${a.toString(16).padStart(32, '0')}`,
      friendlyName: `Agent ${a}`,
      attributes: JSON.stringify({ team_name: a % 2 ? 'Blue' : 'Green' }),
    }));
    let detailBytes = 0;
    const put = (map, item) => map.items.set(item.key, { key: item.key, data: item.data, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null });
    const query = ah.query({ range: 'last30' }, now);
    const t0 = performance.now();
    let previous = [];
    let closed = 0;
    let bytes = 0;
    let dayMs = 0;
    let dayBytes = 0;
    let daysBuilt = 0;
    const utcKey = (ms) => new Date(ms).toISOString().slice(0, 13).replace(/-/g, '') + 'Z';
    for (let t = Date.parse(query.from); t < Date.parse(query.to);) {
      const job = ah.closeJob(t);
      const texts = [];
      for (let u = Math.floor(t / 3600000) * 3600000 - 12 * 3600000; u < Date.parse(job.end); u += 3600000) texts.push(...(byHour.get(utcKey(u)) || []));
      const made = ah.closeHour(job, `[${texts.join(',')}]`, `[${previous.map((x) => JSON.stringify(x.data)).join(',')}]`);
      for (const item of made) {
        put(m, item);
        bytes += JSON.stringify(item.data).length;
      }
      if (job.day) {
        const d0 = performance.now();
        const hours = [...m.items.values()].filter((i) => i.key >= job.day.hours.from && i.key <= job.day.hours.to).map((i) => JSON.stringify(i.data));
        const built = ah.buildDay(job.day.date, `[${hours.join(',')}]`, 1, workers);
        if (built) daysBuilt += 1;
        for (const item of built ? built.days : []) {
          put(dm, item);
          dayBytes += JSON.stringify(item.data).length;
        }
        for (const item of built ? built.detail : []) {
          put(xm, item);
          detailBytes += JSON.stringify(item.data).length;
        }
        dayMs += performance.now() - d0;
      }
      previous = made;
      closed += 1;
      t = Date.parse(job.end);
    }
    const closeMs = (performance.now() - t0 - dayMs) / closed;
    progress(`${closed} hours closed (${m.items.size} items, ${(bytes / 1e6).toFixed(1)} MB); ${dm.items.size} day items (${(dayBytes / 1e6).toFixed(2)} MB)`);
    for (let a = 0; a < agents; a++) {
      const sid = `WK${a.toString(16).padStart(32, '0')}`;
      const w = require('../emulator/taskrouter').ensureWorker(emulator.ctx, sid, `Agent ${a}`);
      w.attributes = JSON.stringify({ team_name: a % 2 ? 'Blue' : 'Green' });
    }
    const reader = machineReader(emulator, now);
    await reader.series({ range: 'today' }); // the directory, remembered a minute by the module
    const lister = (map) => clientFor(emulator).sync.v1.services(env.SYNC_SERVICE_SID).syncMaps(map).syncMapItems;
    const rows = [];
    for (const { selection, ...g } of groupings) {
      const params = { range: 'last30', ...g };
      const samples = [];
      let answer;
      let reads = 0;
      for (let i = 0; i < rounds; i++) {
        const r0 = reader.counts.requests;
        const s0 = performance.now();
        answer = await reader.series(params);
        samples.push(performance.now() - s0);
        reads = reader.counts.requests - r0;
      }
      // The machine alone: the same read with its listings answered in process.
      const w0 = performance.now();
      const { ops: asked } = reader.local(params);
      const wasmMs = performance.now() - w0;
      // The emulator's own part: the machine's listings (as it asked them) answered over HTTP,
      // all at once, nothing aggregated.
      const l0 = performance.now();
      await Promise.all(asked.map((op) => retry(() => lister(op.map).list({ from: op.from, ...(op.bounds ? { bounds: op.bounds } : {}), order: op.order, pageSize: op.pageSize, limit: op.limit }))));
      const listMs = performance.now() - l0;
      const label = `${g.by} (${selection || g.agent || 'all'})`;
      progress(`closed hours and days, by=${label}: ${Math.round(median(samples))} ms`);
      rows.push({
        by: label,
        grouping: g.by,
        selection: selection || g.agent || 'all',
        ms: Math.round(median(samples)),
        aggregate_ms: Math.round(wasmMs),
        list_ms: Math.round(listMs),
        sync_list_requests: reads,
        records: answer.records,
        day_items: answer.dayItems,
        detail_items: answer.detailItems,
        from_days: answer.fromDays,
        hour_items: answer.hourItems,
        from_records: answer.fromRecords,
        rows: answer.series.length,
        answer_bytes: JSON.stringify(answer).length,
      });
    }
    return {
      agents,
      days,
      hours: closed,
      items: m.items.size,
      item_bytes: bytes,
      day_items: dm.items.size,
      day_bytes: dayBytes,
      close_ms_per_hour: Number(closeMs.toFixed(1)),
      day_ms: Number((dayMs / Math.max(1, daysBuilt)).toFixed(1)),
      detail_items: xm.items.size,
      detail_bytes: detailBytes,
      rows,
    };
  } finally {
    await emulator.close();
  }
}

async function benchAgentHistory() {
  const progress = (m) => process.stderr.write(`bench-agent-history: ${m}\n`);
  const closedOnly = process.argv.includes('--closed');
  if (!closedOnly) progress('events…');
  const events = closedOnly ? null : await benchEvents();
  if (!closedOnly) progress('the whole hook…');
  const hook = closedOnly ? null : await benchHook();
  if (process.argv.includes('--events')) return { events, hook, closed: null, query: null };
  progress('query…');
  const closed = await benchClosed({ progress });
  const query = process.argv.includes('--records') ? await benchQuery({ progress }) : null;
  return { events, hook, closed, query };
}

/** The closed-days rows as a table: one line per selection, one column per grouping (ms). */
function closedTable(rows) {
  const selections = [...new Set(rows.map((r) => r.selection))];
  const bys = [...new Set(rows.map((r) => r.grouping))];
  const cell = (s, b) => {
    const r = rows.find((x) => x.selection === s && x.grouping === b);
    return (r ? `${r.ms}${r.ms > 2000 ? '!' : ''}` : '-').padStart(12);
  };
  return [`  ms, median of 3 (! over the 2,000 ms target)  ${bys.map((b) => b.padStart(12)).join('')}`, ...selections.map((s) => `  agent=${s.padEnd(40)}${bys.map((b) => cell(s, b)).join('')}`)];
}

function formatAgentHistory(f) {
  const e = f.events;
  const q = f.query;
  return [...(e ? eventLines(e) : []), ...(f.hook ? hookLines(f.hook) : []), ...(f.closed ? closedLines(f.closed) : []), ...queryLines(q)].join('\n');
}

function hookLines(h) {
  return [
    `agent history — the whole hook per event (record, late events, closing), clock at each event: ${h.events} events, ${h.hours_closed} hours closed`,
    `  ${h.requests_per_event} Sync requests per event; closing ${h.closing_requests} in all (most ${h.most_closing_requests} in one event), late events ${h.reclose_requests}; ${h.errors} errors`,
    `  ${h.ms_median} ms median, ${h.ms_p95} ms p95, ${h.ms_max} ms most per event in process (loopback emulator)`,
  ];
}

function closedLines(c) {
  const f = { closed: c };
  return [
    `agent history — GET /agent-history from closed days and hours, 30 days × ${f.closed.agents} agents (${f.closed.hours} hours closed: ${f.closed.items} agentHours items, ${(f.closed.item_bytes / 1e6).toFixed(1)} MB, closing ${f.closed.close_ms_per_hour} ms of wasm per hour; ${f.closed.day_items} agentDays items, ${(f.closed.day_bytes / 1e6).toFixed(2)} MB, ${f.closed.detail_items} agentDayHours items, ${(f.closed.detail_bytes / 1e6).toFixed(2)} MB, ${f.closed.day_ms} ms of wasm per day), range=last30:   (target <= 2000 ms)`,
    ...closedTable(f.closed.rows),
    ...f.closed.rows.map(
      (r) =>
        `  by=${r.by.padEnd(26)} ${String(r.ms).padStart(5)} ms median of 3 (the machine alone, listings answered in process: ${r.aggregate_ms} ms; the emulator answering its listings alone ${r.list_ms} ms)   ${r.sync_list_requests} Twilio requests, ${r.day_items} day items (${r.from_days} days), ${r.detail_items || 0} agentDayHours items, ${r.hour_items} hour items, ${r.records} records, ${r.from_records} hours from records, ${r.rows} rows, ${r.answer_bytes} bytes`,
    ),
  ];
}

function eventLines(e) {
  return [
    `agent history — event callback hook, ${e.agents} agents × ${e.days} day (${e.events} events, emulator's agent model):`,
    `  per event: ${e.sync_reads_per_event} Sync reads, ${e.sync_writes_per_event} Sync writes (most ${e.most_sync_reads} reads, ${e.most_sync_writes} writes in one event); ${e.taskrouter_calls} TaskRouter calls in all`,
    `  ${e.ms_median} ms median, ${e.ms_p95} ms p95 per event in process (loopback emulator); ${e.records} records, largest ${e.largest_record_bytes} bytes`,
    `  every event again (duplicates): ${e.duplicate_writes} writes`,
  ];
}

function queryLines(q) {
  return [
    ...(q
      ? [
          `agent history — GET /agent-history, 30 days × ${q.agents} agents stored (${q.items} records, ${(q.item_bytes / 1e6).toFixed(1)} MB), range=last30, agent=all:   (target <= 2000 ms)`,
          ...q.rows.map(
            (r) =>
              `  by=${r.by.padEnd(9)} ${String(r.ms).padStart(5)} ms (wasm aggregation ${r.aggregate_ms} ms)   ${r.sync_list_requests} Sync list requests, ${r.records} records, ${r.rows} rows, ${r.answer_bytes} bytes`,
          ),
        ]
      : []),
  ];
}

module.exports = { benchAgentHistory, formatAgentHistory, benchEvents, benchHook, benchQuery, benchClosed };

if (require.main === module) {
  benchAgentHistory().then(
    (f) => console.log(process.argv.includes('--json') ? JSON.stringify(f) : formatAgentHistory(f)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
