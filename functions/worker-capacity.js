// POST /worker-capacity (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   capacity, workerChannelSid, workerSid
// Sets a worker channel's capacity (the plugin raises voice capacity to take a second call): the
// machine `capacity` of crates/call-handling, its one request performed by common/effects.
// Answers {sid, configuredCapacity, dateUpdated, taskChannelUniqueName}.
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { requireEnv } = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const calls = wasmModule('call_handling');
const FIELDS = ['capacity', 'workerChannelSid', 'workerSid'];

exports.handler = handle(async (context, event) => {
  const env = { workspaceSid: requireEnv(context, 'WORKSPACE_SID') };
  await auth.authorize(context, event, { kind: 'actFor', workerSid: event.workerSid });
  return effects.run(context, calls, (wasm) => wasm.startCapacity(formFields(event, FIELDS), env));
});
