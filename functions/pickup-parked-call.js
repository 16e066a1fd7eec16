// POST /pickup-parked-call (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   attributes (JSON), callSid, dateCreated, name, queueName, workerSid, workflowSid
// Takes a parked caller off hold: the call is redirected to an <Enqueue> creating a task for this
// agent. The Sync entries are removed only after the call update succeeded, so a failed pickup
// leaves the call listed (and the caller reachable).
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sync = require(Runtime.getFunctions()['common/sync'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);

const parking = wasmModule('parking');
const FIELDS = ['attributes', 'callSid', 'dateCreated', 'name', 'queueName', 'workerSid', 'workflowSid'];

exports.handler = handle(async (context, event) => {
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  await auth.authorize(context, event, { kind: 'actFor', workerSid: event.workerSid });
  const plan = callWasm(parking, (wasm) => wasm.pickup(formFields(event, FIELDS), Date.now()));
  const client = tw.twilioClient(context);

  try {
    await tw.withRetry(context, () => client.calls(plan.callSid).update({ twiml: plan.twiml }));
  } catch (err) {
    throw tw.twilioFailure(`Picking up call ${plan.callSid}: the call update (the call stays parked)`, err);
  }
  for (const entry of plan.sync) {
    try {
      await sync.deleteItem(context, client, entry);
    } catch (err) {
      throw tw.twilioFailure(`Call ${plan.callSid} was picked up, but removing it from Sync map ${entry.map}`, err);
    }
  }
  return { status: 200, body: { success: true, callSid: plan.callSid, holdTime: plan.holdTime, taskAttributes: plan.taskAttributes } };
});
