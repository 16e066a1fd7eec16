// POST /pickup-parked-call (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   attributes (JSON), callSid, dateCreated, name, queueName, workerSid, workflowSid
// Takes a parked caller off hold: the call is redirected to an <Enqueue> creating a task for this
// agent. The Sync entries are removed only after the call update succeeded, so a failed pickup
// leaves the call listed (and the caller reachable).
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/twilio'].path);

const parking = wasmModule('parking');
const FIELDS = ['attributes', 'callSid', 'dateCreated', 'name', 'queueName', 'workerSid', 'workflowSid'];

exports.handler = handle(async (context, event) => {
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  await tw.validateFlexToken(context, event.Token);
  const plan = tw.callWasm(parking, (wasm) => wasm.pickup(tw.formFields(event, FIELDS), Date.now()));
  const client = tw.twilioClient(context);

  try {
    await tw.withRetry(context, () => client.calls(plan.callSid).update({ twiml: plan.twiml }));
  } catch (err) {
    throw tw.twilioFailure(`Picking up call ${plan.callSid}: the call update (the call stays parked)`, err);
  }
  for (const entry of plan.sync) {
    try {
      await tw.deleteItem(context, client, entry);
    } catch (err) {
      throw tw.twilioFailure(`Call ${plan.callSid} was picked up, but removing it from Sync map ${entry.map}`, err);
    }
  }
  return { status: 200, body: { success: true, callSid: plan.callSid, holdTime: plan.holdTime, taskAttributes: plan.taskAttributes } };
});
