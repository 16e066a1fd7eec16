// Queue history for the functions, one warm instance (and one wasm module) per container:
//   historyFor(context)                common/history's instance for /queue-history
//   historyTick(context)               the TaskRouter event callback's hook, kept apart from the
//                                      queue-stats updater: {taskrouterCalls, syncReads, syncWrites}
//                                      of this call; off when QUEUE_HISTORY_ENABLED is "false"
//   measuredHandleTime(context, sid)   staffing: the queue's average handle time over the last 7 days
//                                      of stored hours (seconds), or null; read at most every 5 min
//   measuredHandleTimes(context)       the same for every queue, {[sid]: seconds} (staffing batches)
const tw = require(Runtime.getFunctions()['common/client'].path);
const { remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { createHistory } = require(Runtime.getFunctions()['common/history'].path);

let env = {};
const historyModule = wasmModule('history', (wasm) => new wasm.History(env));
const h = new Proxy(
  {},
  {
    get:
      (_, name) =>
      (...args) =>
        callWasm(historyModule, (wasm, instance) => instance[name](...args)),
  },
);
let history = null;

const MEASURED_TTL_MS = 5 * 60000;
let measured = { at: 0, bySid: null };

function instance(context) {
  env = Object.fromEntries(Object.entries(context).filter(([key, value]) => /^QUEUE_(STATS|HISTORY)_/.test(key) && typeof value === 'string'));
  if (!history) {
    history = createHistory({
      h,
      client: tw.twilioClient(context),
      workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
      syncServiceSid: tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID'),
      retry: (fn) => tw.withRetry(context, fn),
      timeLeft: () => remainingMs(),
    });
  }
  return history;
}

async function historyTick(context) {
  if (
    String(context.QUEUE_HISTORY_ENABLED || '')
      .trim()
      .toLowerCase() === 'false'
  )
    return { off: true };
  return instance(context).tick();
}

async function measuredHandleTime(context, queueSid) {
  const found = (await measuredHandleTimes(context))[queueSid];
  return found === undefined ? null : found;
}

/** Every queue's measured handle time `{[sid]: seconds}` (queues with none are absent). */
async function measuredHandleTimes(context) {
  if (!measured.bySid || Date.now() - measured.at > MEASURED_TTL_MS) {
    measured = { at: Date.now(), bySid: await instance(context).handleTimes([]) };
  }
  return Object.fromEntries(
    Object.entries(measured.bySid)
      .filter(([, m]) => m && m.avgHandle !== null)
      .map(([sid, m]) => [sid, m.avgHandle]),
  );
}

module.exports = { historyFor: instance, historyTick, measuredHandleTime, measuredHandleTimes };
