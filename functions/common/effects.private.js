// The executor of the effects protocol (docs/effects.md): the one place where a machine's Twilio
// requests are made. A machine (a crate's wasm face) answers a step: effects to perform and the
// state to resume from, or the answer. This file performs every effect of a step at once, hands
// the machine their outcomes in order, and repeats until the machine answers.
//
//   const effects = require(Runtime.getFunctions()['common/effects'].path);
//   return effects.run(context, wasmModule('call_handling'), (wasm) => wasm.startPark(request, env, settings, token, Date.now()));
//   // -> {status, body, contentType?}, what common/http's handle() answers
//
// Guarantees, for every effect:
// - deadline: each request has the invocation's timeout (common/client, common/deadline); one that
//   can no longer start comes back as not attempted (`attempted: false`), never sent;
// - retries: with `retry: true`, a 429 or 503 (Twilio did not carry it out) is repeated with
//   backoff within the deadline (common/client's withRetry); never otherwise;
// - pacing: with `pace: {object, cost}`, the write waits until the object's last second leaves
//   room for its cost (common/sync-pacer: 80 % of Sync's per-object budget, per container);
// - outcomes: `{ok: true, value}` with the resource as plain JSON (the client's camelCase fields;
//   a list for list operations, `true` for a delete), or `{ok: false, attempted, status?, code?,
//   message, moreInfo?}` with Twilio's answer as it came. What a failure means (ambiguous or not,
//   which answer it gives) is the machine's decision, in Rust (crates/effects).
const tw = require(Runtime.getFunctions()['common/client'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { DeadlineError } = require(Runtime.getFunctions()['common/deadline'].path);
const { createPacer } = require(Runtime.getFunctions()['common/sync-pacer'].path);

const pace = createPacer(); // one per container: its writes share each object's budget
const MAX_STEPS = 200; // a machine ends long before; this only stops a broken one

/** The parameters that are set (the client sends a null as the text "null"). */
const given = (params) => Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== null));
const sync = (c, o) => c.sync.v1.services(o.serviceSid);
const workspace = (c, o) => c.taskrouter.v1.workspaces(o.workspaceSid);

// The operations of crates/effects' `Op`, one request each, in the `twilio` client's words.
const OPS = {
  fetchCall: (c, o) => c.calls(o.callSid).fetch(),
  updateCall: (c, o) =>
    c.calls(o.callSid).update(given({ twiml: o.twiml, url: o.url, method: o.method, statusCallback: o.statusCallback, statusCallbackMethod: o.statusCallbackMethod, status: o.status })),
  fetchSyncItem: (c, o) => sync(c, o).syncMaps(o.map).syncMapItems(o.key).fetch(),
  listSyncItems: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems.list(given({ from: o.from, bounds: o.bounds, order: o.order, pageSize: o.pageSize, limit: o.limit })),
  createSyncMap: (c, o) => sync(c, o).syncMaps.create({ uniqueName: o.uniqueName }),
  createSyncItem: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems.create(given({ key: o.key, data: o.data, ttl: o.ttl })),
  updateSyncItem: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems(o.key)
      .update(given({ data: o.data, ttl: o.ttl, ifMatch: o.ifMatch })),
  deleteSyncItem: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems(o.key)
      .remove(o.ifMatch ? { ifMatch: o.ifMatch } : undefined),
  fetchSyncDocument: (c, o) => sync(c, o).documents(o.document).fetch(),
  createSyncDocument: (c, o) => sync(c, o).documents.create(given({ uniqueName: o.uniqueName, data: o.data, ttl: o.ttl })),
  updateSyncDocument: (c, o) =>
    sync(c, o)
      .documents(o.document)
      .update(given({ data: o.data, ttl: o.ttl, ifMatch: o.ifMatch })),
  deleteSyncDocument: (c, o) => sync(c, o).documents(o.document).remove(),
  updateSyncMapPermission: (c, o) => sync(c, o).syncMaps(o.map).syncMapPermissions(o.identity).update({ read: o.read, write: o.write, manage: o.manage }),
  updateSyncDocumentPermission: (c, o) => sync(c, o).documents(o.document).documentPermissions(o.identity).update({ read: o.read, write: o.write, manage: o.manage }),
  fetchTask: (c, o) => workspace(c, o).tasks(o.taskSid).fetch(),
  listTasks: (c, o) => workspace(c, o).tasks.list(given({ evaluateTaskAttributes: o.evaluateTaskAttributes, assignmentStatus: o.assignmentStatus, limit: o.limit })),
  listTaskReservations: (c, o) =>
    workspace(c, o)
      .tasks(o.taskSid)
      .reservations.list(given({ workerSid: o.workerSid, limit: o.limit })),
  listTaskQueues: (c, o) => workspace(c, o).taskQueues.list(given({ workerSid: o.workerSid, pageSize: o.pageSize, limit: o.limit })),
  listWorkers: (c, o) => workspace(c, o).workers.list(given({ taskQueueSid: o.taskQueueSid, pageSize: o.pageSize, limit: o.limit })),
  listActivities: (c, o) => workspace(c, o).activities.list(given({ pageSize: o.pageSize, limit: o.limit })),
  createTask: (c, o) => workspace(c, o).tasks.create(given({ workflowSid: o.workflowSid, taskChannel: o.taskChannel, priority: o.priority, attributes: o.attributes, timeout: o.timeout })),
  updateTask: (c, o) =>
    workspace(c, o)
      .tasks(o.taskSid)
      .update(given({ attributes: o.attributes, assignmentStatus: o.assignmentStatus, reason: o.reason, priority: o.priority, ifMatch: o.ifMatch })),
  updateWorkerChannel: (c, o) =>
    workspace(c, o)
      .workers(o.workerSid)
      .workerChannels(o.workerChannelSid)
      .update(given({ capacity: o.capacity, available: o.available })),
  fetchSyncService: (c, o) => c.sync.v1.services(o.serviceSid).fetch(),
};

/** A resource (or list of them) as plain JSON, as the machines read it. */
const plain = (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

/** A failed request as the machines read it: Twilio's answer as it came, nothing decided. */
function failure(err) {
  if (err instanceof DeadlineError) return { ok: false, attempted: false, message: err.message };
  const out = { ok: false, attempted: true, message: (err && err.message) || String(err) };
  if (err && Number.isInteger(err.status) && err.status >= 100 && err.status <= 599) out.status = err.status;
  if (err && Number.isInteger(err.code) && err.code >= 0) out.code = err.code;
  if (err && typeof err.moreInfo === 'string') out.moreInfo = err.moreInfo;
  return out;
}

/** Performs one effect with `client`; never throws: the outcome says how it went. */
async function perform(context, client, effect) {
  const op = (effect && effect.op) || {};
  const request = OPS[op.kind];
  if (!request) return { ok: false, attempted: false, message: `the executor has no operation ${JSON.stringify(op.kind)}` };
  try {
    if (effect.pace) await pace(effect.pace.object, effect.pace.cost);
    const once = () => request(client, op);
    return { ok: true, value: plain(await (effect.retry ? tw.withRetry(context, once) : once())) };
  } catch (err) {
    return failure(err);
  }
}

/**
 * Runs the machine `start` begins (a call on `mod`, a wasmModule whose face exports `resume`,
 * or the export named `resume`) to its answer `{status, body, contentType?}`. A request the machine refuses at the start (a
 * bad parameter or setting) throws as callWasm does, before any Twilio request.
 */
async function run(context, mod, start, resume = 'resume') {
  let step = callWasm(mod, start);
  const client = step.run ? tw.twilioClient(context) : null;
  for (let steps = 0; step.run; steps += 1) {
    if (steps >= MAX_STEPS) throw new Error(`The machine did not answer after ${MAX_STEPS} steps; nothing further was attempted`);
    const { state } = step;
    const outcomes = await Promise.all(step.run.map((effect) => perform(context, client, effect)));
    step = callWasm(mod, (wasm) => wasm[resume](state, outcomes, Date.now()));
  }
  return step.answer;
}

module.exports = { run, perform, OPS };
