// GET|POST /staffing — Erlang C: agents needed for a service-level target (crates/staffing).
// Parameters (query, form or JSON): callsPerInterval, intervalMinutes (30), ahtSeconds,
// thresholdSeconds (20), target (0.8, 80 or 80%), maxOccupancy, shrinkage, agents (a what-if).
// With `queueSid` (and no callsPerInterval) the arrivals are the queue's tasks entered over the last
// 30 minutes of TaskRouter statistics; without ahtSeconds, the queue's measured handle time (queue
// history, last 7 days), else fallbackAhtSeconds, else STAFFING_DEFAULT_AHT_SECONDS is used.
// A batch (a JSON body with `queues: [{queueSid, channel?, thresholdSeconds?, target?, ahtSeconds?,
// fallbackAhtSeconds?, ...}]`, at most 2,000): every queue's figure from one TaskRouter statistics
// list per channel (crates/staffing `batch`), so a wallboard asks once per refresh for all its tiles.
// The reads are the machines of crates/history-machines, performed by common/effects.
// Any worker's Flex token, or the wallboard key (header `Authorization: Wallboard <key>`).
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const machines = wasmModule('history_machines');
const FIELDS = ['callsPerInterval', 'intervalMinutes', 'ahtSeconds', 'fallbackAhtSeconds', 'thresholdSeconds', 'target', 'maxOccupancy', 'shrinkage', 'agents', 'queueSid', 'channel'];
const text = (v) => (v === undefined || v === null ? null : String(v));

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'anyWorker', wallboardKey: true });
  // history_machines::SETTINGS: queue history's config, the workspace and Flex's Sync service.
  const env = { defaultAhtSeconds: text(context.STAFFING_DEFAULT_AHT_SECONDS), history: machines.settings(context, 'historySettings') };
  if (event.queues !== undefined) return effects.run(context, machines, (wasm) => wasm.startStaffingBatch({ queues: event.queues }, env, Date.now()));
  return effects.run(context, machines, (wasm) => wasm.startStaffing(formFields(event, FIELDS), env, Date.now()));
});
