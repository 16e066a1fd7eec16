// POST /park-call (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   attributes (JSON), callSid, name, queueName, taskSid, workerSid, workflowSid
// Puts the caller on hold music and lists the call in Sync. The parking crate plans it; this shim
// first reads whose call it is (the task, the task's reservations for the worker, the call's
// Global.ParkedCalls entry) and the crate decides (a worker parks only a call of a task they hold
// that nobody else has parked; 403/404 before any write). Then it
// updates the call first and writes Sync only if that worked, so a call that could not be parked
// is never listed as parked. Then it reads the call again: a caller who hung up while being
// parked (their status callback found no entry yet) gets the wrap-up here (common/wrapup).
const crypto = require('crypto');
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sync = require(Runtime.getFunctions()['common/sync'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { runWrapUp } = require(Runtime.getFunctions()['common/wrapup'].path);

const parking = wasmModule('parking');
const FIELDS = ['attributes', 'callSid', 'name', 'queueName', 'taskSid', 'workerSid', 'workflowSid'];
const ENDED = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];

exports.handler = handle(async (context, event) => {
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  const workspaceSid = tw.requireEnv(context, 'WORKSPACE_SID');
  await auth.authorize(context, event, { kind: 'actFor', workerSid: event.workerSid });
  const settings = { domainName: context.DOMAIN_NAME, holdMusicPath: context.HOLD_MUSIC_PATH };
  const request = formFields(event, FIELDS);
  const plan = callWasm(parking, (wasm) => wasm.park(request, settings, Date.now()));
  const client = tw.twilioClient(context);

  // Whose call it is: three reads at once (two TaskRouter, one Sync), then the crate decides.
  const reads = callWasm(parking, (wasm) => wasm.parkReads(request));
  const task = client.taskrouter.v1.workspaces(workspaceSid).tasks(reads.taskSid);
  const orNull = (err) => {
    if (err && err.status === 404) return null;
    throw tw.twilioFailure(`Checking that task ${reads.taskSid} is worker ${reads.workerSid}'s`, err);
  };
  const [found, reservations, entry] = await Promise.all([
    tw.withRetry(context, () => task.fetch()).catch(orNull),
    tw.withRetry(context, () => task.reservations.list({ workerSid: reads.workerSid, limit: 50 })).catch(orNull),
    sync.fetchItem(context, client, { map: reads.map, key: reads.key }).catch((err) => {
      throw tw.twilioFailure(`Reading the parked-call entry of ${reads.key}`, err);
    }),
  ]);
  const facts = {
    task: found && { sid: found.sid, assignmentStatus: found.assignmentStatus, attributes: found.attributes },
    reservations: (reservations || []).map((r) => ({ workerSid: r.workerSid, reservationStatus: r.reservationStatus })),
    entry,
  };
  callWasm(parking, (wasm) => wasm.parkCheck(request, facts));

  try {
    await tw.withRetry(context, () =>
      client.calls(plan.callSid).update({ twiml: plan.twiml, statusCallback: plan.statusCallback, statusCallbackMethod: 'POST' }),
    );
  } catch (err) {
    throw tw.twilioFailure(`Parking call ${plan.callSid}: the call update`, err);
  }
  for (const entry of plan.sync) {
    try {
      await sync.upsertItem(context, client, entry);
    } catch (err) {
      throw tw.twilioFailure(`Call ${plan.callSid} is on hold, but listing it in Sync map ${entry.map}`, err);
    }
  }
  const call = await tw.withRetry(context, () => client.calls(plan.callSid).fetch()).catch(() => null);
  if (call && ENDED.includes(call.status)) {
    const wrapUp = await runWrapUp(context, client, { CallSid: plan.callSid, CallStatus: call.status }, crypto.randomUUID());
    return { status: 200, body: { success: true, callSid: plan.callSid, parkedCall: plan.record, callEnded: true, wrapUp: wrapUp.body } };
  }
  return { status: 200, body: { success: true, callSid: plan.callSid, parkedCall: plan.record } };
});
