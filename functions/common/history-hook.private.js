// Queue history for the functions, one warm instance (and one wasm module) per container:
//   historyFor(context)                common/history's instance for /queue-history
//   historyTick(context)               the TaskRouter event callback's hook, kept apart from the
//                                      queue-stats updater: {taskrouterCalls, syncReads, syncWrites}
//                                      of this call; off when QUEUE_HISTORY_ENABLED is "false"
// (Staffing's measured handle times are read by its machine, crates/history-machines.)
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

module.exports = { historyFor: instance, historyTick };
