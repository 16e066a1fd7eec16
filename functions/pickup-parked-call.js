// POST /pickup-parked-call (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   callSid; the plugin's attributes, dateCreated, name, queueName, workerSid, workflowSid are
//   accepted and ignored: the parked-call record in Sync decides (the parking crate's `pickup`).
// Not parked: 404, nothing touched. Another worker's parked call: 403 unless supervisor/admin.
// Order: mark the entry picked up, redirect the call (inline TwiML, or a Url to pickup-twiml when
// it is too long), unlist. A call that already ended (21220) gets the wrap-up it missed: 410.
const crypto = require('crypto');
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, HttpError, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sync = require(Runtime.getFunctions()['common/sync'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { runWrapUp } = require(Runtime.getFunctions()['common/wrapup'].path);

const parking = wasmModule('parking');
const FIELDS = ['attributes', 'callSid', 'dateCreated', 'name', 'queueName', 'workerSid', 'workflowSid'];

exports.handler = handle(async (context, event) => {
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  const who = await auth.identify(context, event);
  auth.check(context, who, { kind: 'anyWorker' });
  const request = formFields(event, FIELDS);
  const target = callWasm(parking, (wasm) => wasm.pickupTarget(request));
  const client = tw.twilioClient(context);
  const entry = await sync.fetchItem(context, client, target).catch((err) => { throw tw.twilioFailure(`Reading the parked call ${target.callSid}`, err); });
  const token = crypto.randomUUID();
  const plan = callWasm(parking, (wasm) => wasm.pickup(request, entry, token, { domainName: context.DOMAIN_NAME }, Date.now()));
  auth.check(context, who, { kind: 'actFor', workerSid: plan.workerSid });

  if (plan.pickupItem) await sync.upsertItem(context, client, plan.pickupItem).catch((err) => { throw tw.twilioFailure(`Storing the pickup of ${plan.callSid}`, err); });
  const marked = await sync.updateItem(context, client, plan.mark).catch((err) => {
    if (sync.isCode(err, 412)) throw new HttpError(409, `The parked call ${plan.callSid} changed meanwhile; nothing was changed, please retry`, { code: 'conflict' });
    throw tw.twilioFailure(`Marking the parked call ${plan.callSid} (the call stays parked)`, err);
  });
  try {
    await tw.withRetry(context, () => client.calls(plan.callSid).update(plan.callUpdate));
  } catch (err) {
    if (sync.isCode(err, 400, 21220)) {
      const wrapUp = await runWrapUp(context, client, { CallSid: plan.callSid, CallStatus: 'completed' }, token);
      throw new HttpError(410, `The caller of ${plan.callSid} has already hung up; the parked call is wrapped up instead`, { code: 'call_ended', wrapUp: wrapUp.body });
    }
    if (!tw.ambiguous(err)) await sync.updateItem(context, client, { ...plan.unmark, ifMatch: marked }).catch(() => null);
    throw tw.twilioFailure(`Picking up call ${plan.callSid}: the call update (the call stays parked)`, err);
  }
  const warnings = [];
  for (const entry of plan.sync) {
    await sync.deleteItem(context, client, entry).catch((err) => warnings.push(`removing it from ${entry.map} failed (${err.message}); the entry is marked picked up and cleans itself up when the call ends`));
  }
  return { status: 200, body: { success: true, callSid: plan.callSid, holdTime: plan.holdTime, taskAttributes: plan.taskAttributes, ...(warnings.length && { warnings }) } };
});
