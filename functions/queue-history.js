// GET /queue-history — hourly queue figures kept beyond TaskRouter's 30 days, grouped for charts.
// Supervisors and admins (Flex token) or the wallboard (`Authorization: Wallboard <key>`).
// Parameters: queue (a TaskQueue SID, several separated by commas, or all), channel (all or a
// channel of QUEUE_STATS_CHANNELS), range (today, yesterday, last7, last30) or from/to (date,
// wall time down to the hour, or instant), by (hour, hourOfDay, dayOfWeek, date, queue).
// The history module validates (400 naming the parameter) and aggregates; common/history reads
// Sync and backfills missing hours from TaskRouter. See docs/queue-history.md.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const { remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { createHistory } = require(Runtime.getFunctions()['common/history'].path);

let env = {};
const historyModule = wasmModule('history', (wasm) => new wasm.History(env));
// Every wasm call goes through callWasm: crate errors become 4xx/5xx JSON naming the parameter.
const h = new Proxy({}, { get: (_, name) => (...args) => callWasm(historyModule, (wasm, instance) => instance[name](...args)) });
let history = null;

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'supervise', wallboardKey: true });
  const workspaceSid = tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  const syncServiceSid = tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID');
  env = Object.fromEntries(Object.entries(context).filter(([key, value]) => /^QUEUE_(STATS|HISTORY)_/.test(key) && typeof value === 'string'));
  if (!history) {
    history = createHistory({ h, client: tw.twilioClient(context), workspaceSid, syncServiceSid, retry: (fn) => tw.withRetry(context, fn), timeLeft: () => remainingMs() });
  }
  const params = formFields(event, ['queue', 'channel', 'from', 'to', 'range', 'by']);
  return { status: 200, body: await history.series(params) };
});
