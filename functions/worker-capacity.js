// POST /worker-capacity (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   capacity, workerChannelSid, workerSid
// Sets a worker channel's capacity (the plugin raises voice capacity to take a second call).
// Answers {sid, configuredCapacity, dateUpdated, taskChannelUniqueName}.
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);

const parking = wasmModule('parking');
const FIELDS = ['capacity', 'workerChannelSid', 'workerSid'];

exports.handler = handle(async (context, event) => {
  const workspaceSid = tw.requireEnv(context, 'WORKSPACE_SID');
  await auth.authorize(context, event, { kind: 'actFor', workerSid: event.workerSid });
  const plan = callWasm(parking, (wasm) => wasm.capacity(formFields(event, FIELDS)));
  const client = tw.twilioClient(context);

  let channel;
  try {
    channel = await tw.withRetry(context, () =>
      client.taskrouter.v1.workspaces(workspaceSid).workers(plan.workerSid).workerChannels(plan.workerChannelSid).update({ capacity: plan.capacity }),
    );
  } catch (err) {
    throw tw.twilioFailure(`Updating worker channel ${plan.workerChannelSid} of ${plan.workerSid}`, err);
  }
  const { sid, configuredCapacity, dateUpdated, taskChannelUniqueName } = channel;
  return { status: 200, body: { sid, configuredCapacity, dateUpdated, taskChannelUniqueName } };
});
