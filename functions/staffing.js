// GET|POST /staffing — Erlang C: agents needed for a service-level target (crates/staffing).
// Parameters (query, form or JSON): callsPerInterval, intervalMinutes (30), ahtSeconds,
// thresholdSeconds (20), target (0.8, 80 or 80%), maxOccupancy, shrinkage, agents (a what-if).
// With `queueSid` (and no callsPerInterval) the arrivals are the queue's tasks entered over the last
// 30 minutes of TaskRouter statistics; without ahtSeconds, the queue's measured handle time (queue
// history, last 7 days), else fallbackAhtSeconds, else STAFFING_DEFAULT_AHT_SECONDS is used.
// A batch (a JSON body with `queues: [{queueSid, channel?, thresholdSeconds?, target?, ahtSeconds?,
// fallbackAhtSeconds?, ...}]`, at most 2,000): every queue's figure from one TaskRouter statistics
// list per channel (crates/staffing `batch`), so a wallboard asks once per refresh for all its tiles.
// Any worker's Flex token, or the wallboard key (header `Authorization: Wallboard <key>`).
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { measuredHandleTime, measuredHandleTimes } = require(Runtime.getFunctions()['common/history-hook'].path);

const staffing = wasmModule('staffing');
const FIELDS = ['callsPerInterval', 'intervalMinutes', 'ahtSeconds', 'fallbackAhtSeconds', 'thresholdSeconds', 'target', 'maxOccupancy', 'shrinkage', 'agents'];
const WINDOW_MINUTES = 30;

async function observedArrivals(context, queueSid, channel) {
  const workspace = tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  const client = tw.twilioClient(context);
  const query = { minutes: WINDOW_MINUTES, ...(channel ? { taskChannel: channel } : {}) };
  const stats = await tw
    .withRetry(context, () => client.taskrouter.v1.workspaces(workspace).taskQueues(queueSid).cumulativeStatistics().fetch(query))
    .catch((err) => {
      throw tw.twilioFailure(`Reading the statistics of TaskQueue ${queueSid}`, err);
    });
  return [stats.tasksEntered, WINDOW_MINUTES];
}

/** A batch: the statistics lists the crate asks for, then every queue's answer. */
async function batch(context, queues) {
  const input = { queues, defaultAhtSeconds: context.STAFFING_DEFAULT_AHT_SECONDS ? String(context.STAFFING_DEFAULT_AHT_SECONDS) : null };
  const plan = callWasm(staffing, (wasm) => wasm.batchPlan(input));
  const workspace = tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  const lists = tw.twilioClient(context).taskrouter.v1.workspaces(workspace).taskQueues.statistics;
  const arrivals = await Promise.all(
    plan.reads.map(async ({ channel, minutes, pageSize }) => {
      const rows = await tw
        .withRetry(context, () => lists.list({ minutes, pageSize, ...(channel ? { taskChannel: channel } : {}) }))
        .catch((err) => {
          throw tw.twilioFailure('Reading the statistics of the TaskQueues', err);
        });
      return { channel, minutes, entered: Object.fromEntries(rows.map((r) => [r.taskQueueSid, Number((r.cumulative || {}).tasks_entered) || 0])) };
    }),
  );
  const measured = context.TWILIO_FLEX_SYNC_SID ? await measuredHandleTimes(context).catch((err) => (console.warn(`staffing: no measured handle times: ${err.message}`), {})) : {};
  return callWasm(staffing, (wasm) => wasm.batchAnswer(input, { arrivals, measured }));
}

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'anyWorker', wallboardKey: true });
  if (event.queues !== undefined) return { status: 200, body: await batch(context, event.queues) };
  const request = formFields(event, FIELDS);
  const given = event.queueSid === undefined ? '' : String(event.queueSid).trim();
  const queueSid = given && callWasm(staffing, (wasm) => wasm.queueSid(given));
  if (queueSid && request.callsPerInterval === undefined) {
    request.observedArrivals = await observedArrivals(context, queueSid, event.channel ? String(event.channel) : '');
  }
  // The queue's measured handle time (queue history, docs/queue-history.md) comes before any default.
  if (queueSid && request.ahtSeconds === undefined && context.TWILIO_FLEX_SYNC_SID) {
    request.measuredAhtSeconds = await measuredHandleTime(context, queueSid).catch((err) => (console.warn(`staffing: no measured handle time: ${err.message}`), null));
  }
  if (context.STAFFING_DEFAULT_AHT_SECONDS) request.defaultAhtSeconds = String(context.STAFFING_DEFAULT_AHT_SECONDS);
  const answer = callWasm(staffing, (wasm) => wasm.staffing(request));
  return { status: 200, body: queueSid ? { queueSid, ...answer } : answer };
});
