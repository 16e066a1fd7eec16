// Queue history (docs/queue-history.md) on the effects executor: crates/history-machines decides
// (the range, backfill order, claims, which TaskRouter reads, the items, pruning, the hook's
// pace, what the hook remembers between events: its wasm module's memory), common/effects
// performs. This file only starts the machines, one hook run at a time.
//   historySeries(context, params)  GET /queue-history's answer {status, body}
//   historyTick(context)            the event callback's hook: {taskrouterCalls, syncReads,
//                                   syncWrites} | {off: true} | {error}; never throws
const { randomUUID } = require('crypto');
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const { remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);

const mod = wasmModule('history_machines');
const OWNER = randomUUID(); // this container, in claims
const IO = { resume: 'resumeHistory', text: true };
let hookRuns = Promise.resolve(); // one hook run at a time: each starts from the last one's memory

const input = (context, extra) => ({
  env: mod.settings(context, 'historySettings'), // history_machines::SETTINGS
  workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
  syncServiceSid: tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID'),
  owner: OWNER,
  nowMs: Date.now(),
  ...extra,
});

function historySeries(context, params) {
  const deadlineMs = Number.isFinite(remainingMs()) ? Date.now() + remainingMs() : null;
  return effects.run(context, mod, (wasm) => wasm.startHistorySeries(input(context, { params, run: randomUUID(), deadlineMs, listQueues: true })), IO);
}

function historyTick(context) {
  const run = hookRuns.then(() => effects.run(context, mod, (wasm) => wasm.startHistoryHook(input(context)), IO).then((answer) => answer.body));
  hookRuns = run.catch(() => {});
  return run.catch((err) => ({ error: err.message }));
}

module.exports = { historySeries, historyTick };
