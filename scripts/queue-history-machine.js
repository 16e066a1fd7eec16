// Queue history's machines (crates/history-machines: the series with its backfill, the event
// callback's hook, the closing of given hours) driven outside a Function, with the functions' own
// executor (functions/common/effects' `perform`: the same client, pacing and retries), as one more
// "container": for the seeding script, the benchmark and tests.
//
//   const { historyMachines } = require('./queue-history-machine');
//   const m = historyMachines({ context: emulator.functionEnv(), env: { QUEUE_STATS_TIME_ZONE: 'UTC' }, now, pace, retry });
//   await m.series(params, { deadlineMs, listQueues, backfill })  // GET /queue-history's answer body
//   await m.tick()                                               // the hook for one event: {taskrouterCalls, syncReads, syncWrites}
//   await m.close(hours, queues?)                                // closes hours (no claim): {closed, notes, queues, taskrouterCalls, …}
//   m.counts                                                     // {taskrouterCalls, syncReads, syncWrites} of every request so far
//
// `now` is the machines' clock; `pace(object, cost)` and `retry(fn)` replace the container's
// pacer and common/client's withRetry (a benchmark's simulated clock).
const path = require('path');
const { randomUUID } = require('crypto');

const root = path.resolve(__dirname, '..');
const common = path.join(root, 'functions', 'common');
global.Runtime = global.Runtime || {
  getFunctions: () => Object.fromEntries(['http', 'deadline', 'client', 'wasm', 'effects'].map((n) => [`common/${n}`, { path: path.join(common, `${n}.private.js`) }])),
  getAssets: () => ({}),
};

function historyMachines({ context, env = {}, now = Date.now, pace, retry, client: given }) {
  const effects = require(path.join(common, 'effects.private.js'));
  const tw = require(path.join(common, 'client.private.js'));
  const wasm = require(path.join(root, 'functions', 'wasm', 'history_machines.private.js'));
  const client = given || tw.twilioClient(context);
  const owner = randomUUID(); // this "container"
  const counts = { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 };
  // The settings the machines read (history_machines::SETTINGS): `env`'s, the services the
  // context's; the hook's memory is the wasm module's, per owner (one per "container").
  const named = { ...env, WORKSPACE_SID: context.WORKSPACE_SID || context.TWILIO_FLEX_WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: context.TWILIO_FLEX_SYNC_SID || context.SYNC_SERVICE_SID };
  const ids = { env: Object.fromEntries(wasm.historySettings().flatMap((n) => (typeof named[n] === 'string' ? [[n, named[n]]] : []))), owner };
  const kind = (op) => (/Sync(Items?|Map)$/.test(op.kind) ? (/^(list|fetch)/.test(op.kind) ? 'syncReads' : 'syncWrites') : 'taskrouterCalls');

  async function run(start) {
    let step = start({ ...ids, nowMs: now() });
    while (step.run) {
      for (const e of step.run) counts[kind(e.op)] += 1;
      const outcomes = await Promise.all(step.run.map((e) => effects.perform(context, client, e, { pace, retry, text: true })));
      step = wasm.resumeHistory(step.state, `[${outcomes.map((o) => (o.json === undefined ? JSON.stringify(o) : `{"ok":true,"value":${o.json}}`)).join(',')}]`, now());
    }
    return step.answer.body;
  }

  return {
    series: (params, { deadlineMs = null, listQueues = false, backfill = true } = {}) => run((i) => wasm.startHistorySeries({ ...i, params, run: randomUUID(), deadlineMs, listQueues, backfill })),
    tick: () => run((i) => wasm.startHistoryHook(i)),
    close: (hours, queues = null) => run((i) => wasm.startHistoryClose({ ...i, hours, queues })),
    counts,
    owner,
  };
}

module.exports = { historyMachines };
