// POST /pickup-parked-call (the multi-call Flex plugin; form-encoded, Flex token in `Token`)
//   callSid; the plugin's attributes, dateCreated, name, queueName, workerSid, workflowSid are
//   accepted and ignored: the parked-call record in Sync decides.
// The machine `pickup` of crates/call-handling decides everything, common/effects performs its
// requests (docs/call-parking.md): not parked 404, another worker's call 403 unless
// supervisor/admin; mark the entry, redirect the call (inline TwiML, or a Url to pickup-twiml),
// unlist; a call that already ended (21220) gets the wrap-up it missed: 410.
const crypto = require('crypto');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { requireEnv, envValue } = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const calls = wasmModule('call_handling');
const FIELDS = ['attributes', 'callSid', 'dateCreated', 'name', 'queueName', 'workerSid', 'workflowSid'];

exports.handler = handle(async (context, event) => {
  const env = { syncServiceSid: requireEnv(context, 'SYNC_SERVICE_SID'), workspaceSid: envValue(context, 'WORKSPACE_SID') };
  const who = await auth.identify(context, event);
  auth.check(context, who, { kind: 'anyWorker' });
  const request = formFields(event, FIELDS);
  const settings = { domainName: context.DOMAIN_NAME };
  return effects.run(context, calls, (wasm) => wasm.startPickup(request, who, env, settings, crypto.randomUUID()));
});
