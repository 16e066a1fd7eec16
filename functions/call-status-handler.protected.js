// POST /call-status-handler (Twilio's status callback for parked calls; protected: signed by Twilio)
//   CallSid, CallStatus, SequenceNumber, Timestamp
// When a parked caller hangs up: one wrap-up task for the agent, the worker's entry marked, the
// global entry removed. The call-status crate decides; its docs state the idempotency rule (a
// conditional "claim" of the global entry in Sync) that makes duplicates and races harmless.
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, HttpError, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sync = require(Runtime.getFunctions()['common/sync'].path);

const callStatus = wasmModule('call_status');
const FIELDS = ['CallSid', 'CallStatus', 'SequenceNumber', 'Timestamp'];
const MAX_ROUNDS = 5; // re-reads after losing a race for the entry

exports.handler = handle(async (context, event) => {
  const workspaceSid = tw.requireEnv(context, 'WORKSPACE_SID');
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  const callback = formFields(event, FIELDS);
  const client = tw.twilioClient(context);

  let lookup = null; // not fetched yet
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const d = callWasm(callStatus, (wasm) => wasm.decide(callback, lookup, workspaceSid, Date.now()));
    if (d.action === 'ignore') return { status: 200, body: { handled: false, reason: d.reason, message: d.message } };
    if (d.action === 'lookup') {
      const item = await sync.fetchItem(context, client, d);
      lookup = item ? { found: true, ...item } : { found: false };
      continue;
    }
    // wrapUp: 1. claim (If-Match); losing the race means someone else changed it: read again.
    const claimed = await sync.updateItemIfMatch(context, client, d.claim);
    if (claimed === null) {
      lookup = null;
      continue;
    }
    // 2. the one wrap-up task; if Twilio refused it, give the claim back so a retry can succeed.
    let task;
    try {
      task = await tw.withRetry(context, () => client.taskrouter.v1.workspaces(d.task.workspaceSid).tasks.create(d.task));
    } catch (err) {
      if (Number.isInteger(err.status)) await sync.updateItemIfMatch(context, client, { ...d.release, ifMatch: claimed }).catch(() => null);
      throw tw.twilioFailure(`Creating the wrap-up task for ${d.callSid}`, err);
    }
    // 3. and 4. tell the agent, then unlist the call.
    try {
      await sync.upsertItem(context, client, d.workerEntry);
      await sync.deleteItem(context, client, d.removeGlobal);
    } catch (err) {
      const failure = tw.twilioFailure(`Wrap-up task ${task.sid} was created, but updating Sync`, err);
      failure.extra = { ...failure.extra, taskSid: task.sid };
      throw failure;
    }
    return { status: 200, body: { handled: true, callSid: d.callSid, callStatus: d.callStatus, taskSid: task.sid, holdTime: d.holdTime } };
  }
  throw new HttpError(503, `The parked-call entry of ${callback.CallSid} kept changing; gave up after ${MAX_ROUNDS} attempts`);
});
