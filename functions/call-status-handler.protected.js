// POST /call-status-handler (Twilio's status callback for parked calls; protected: signed by Twilio)
//   CallSid, CallStatus, SequenceNumber, Timestamp
// When a parked caller hangs up: exactly one wrap-up task for the agent, the worker's entry
// marked, the global entry removed. The call-status crate's machine decides every step (run by
// crates/call-handling; common/effects performs its requests); it answers 503 exactly when
// Twilio's redelivery (the `#rc=3&rp=5xx,ct,rt` overrides park puts on the callback URL) can
// finish the job, 200 otherwise.
const crypto = require('crypto');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { requireEnv } = require(Runtime.getFunctions()['common/client'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const calls = wasmModule('call_handling');
const FIELDS = ['CallSid', 'CallStatus', 'SequenceNumber', 'Timestamp'];

exports.handler = handle(async (context, event) => {
  const env = { workspaceSid: requireEnv(context, 'WORKSPACE_SID'), syncServiceSid: requireEnv(context, 'SYNC_SERVICE_SID') };
  return effects.run(context, calls, (wasm) => wasm.startCallStatus(formFields(event, FIELDS), crypto.randomUUID(), env, Date.now()));
});
