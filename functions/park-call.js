// POST /park-call (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   attributes (JSON), callSid, name, queueName, taskSid, workerSid, workflowSid
// Puts the caller on hold music and lists the call in Sync (docs/call-parking.md). The machine
// `park` of crates/call-handling decides everything, common/effects performs its requests: it
// reads whose call it is (the task, its reservations for the worker, the call's entry; 403/404
// before any write), updates the call, lists it only if that worked, then reads the call again
// and wraps it up if the caller hung up meanwhile.
const crypto = require('crypto');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { requireEnv } = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const calls = wasmModule('call_handling');
const FIELDS = ['attributes', 'callSid', 'name', 'queueName', 'taskSid', 'workerSid', 'workflowSid'];

exports.handler = handle(async (context, event) => {
  const syncServiceSid = requireEnv(context, 'SYNC_SERVICE_SID');
  const env = { syncServiceSid, workspaceSid: requireEnv(context, 'WORKSPACE_SID') };
  await auth.authorize(context, event, { kind: 'actFor', workerSid: event.workerSid });
  const settings = { domainName: context.DOMAIN_NAME, holdMusicPath: context.HOLD_MUSIC_PATH };
  const request = formFields(event, FIELDS);
  return effects.run(context, calls, (wasm) => wasm.startPark(request, env, settings, crypto.randomUUID(), Date.now()));
});
