// Performs the steps of a parked call's wrap-up as the call-status crate names them (see its crate
// docs for the order and the exactly-once rule). Used by call-status-handler, and by pickup and
// park when they find the call already ended.
//
//   const { runWrapUp } = require(Runtime.getFunctions()['common/wrapup'].path);
//   const { status, body } = await runWrapUp(context, client, { CallSid, CallStatus, ... }, token);
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sync = require(Runtime.getFunctions()['common/sync'].path);

const callStatus = wasmModule('call_status');

const steps = {
  fetchItem: (context, client, a) => sync.fetchItem(context, client, a),
  updateItem: (context, client, a) => sync.updateItem(context, client, a),
  upsertItem: (context, client, a) => sync.upsertItem(context, client, a).then(() => null),
  deleteItem: (context, client, a) => sync.deleteItem(context, client, a),
  findTasks: async (context, client, a) => {
    const tasks = await tw.withRetry(context, () => client.taskrouter.v1.workspaces(a.workspaceSid).tasks.list({ evaluateTaskAttributes: a.evaluateTaskAttributes, limit: 20 }));
    return tasks.map((t) => t.sid);
  },
  // Never retried here: a 5xx or a timeout may have created it (the crate looks it up instead).
  // The action's own fields (kind, workspaceSid) are not the operation's parameters.
  createTask: async (context, client, { kind, workspaceSid, ...params }) => (await client.taskrouter.v1.workspaces(workspaceSid).tasks.create(params)).sid,
};

async function perform(context, client, action) {
  try {
    return { ok: true, value: (await steps[action.kind](context, client, action)) ?? null };
  } catch (err) {
    const status = err && Number.isInteger(err.status) ? err.status : undefined;
    return { ok: false, status, ambiguous: tw.ambiguous(err), message: (err && err.message) || String(err) };
  }
}

async function runWrapUp(context, client, callback, token) {
  const workspaceSid = tw.requireEnv(context, 'WORKSPACE_SID');
  let next = callWasm(callStatus, (wasm) => wasm.start(callback, token, workspaceSid, Date.now()));
  while (next.action.kind !== 'answer') {
    const outcome = await perform(context, client, next.action);
    next = callWasm(callStatus, (wasm) => wasm.resume(next.state, outcome, Date.now()));
  }
  return { status: next.action.status, body: next.action.body };
}

module.exports = { runWrapUp };
