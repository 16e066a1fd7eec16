// POST /call-status-handler (Twilio's status callback for parked calls; protected: signed by Twilio)
//   CallSid, CallStatus, SequenceNumber, Timestamp
// When a parked caller hangs up: exactly one wrap-up task for the agent, the worker's entry
// marked, the global entry removed. The call-status crate decides every step (common/wrapup
// performs them); it answers 503 exactly when Twilio's redelivery (the `#rc=3&rp=5xx,ct,rt`
// overrides park puts on the callback URL) can finish the job, 200 otherwise.
const crypto = require('crypto');
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const { runWrapUp } = require(Runtime.getFunctions()['common/wrapup'].path);

const FIELDS = ['CallSid', 'CallStatus', 'SequenceNumber', 'Timestamp'];

exports.handler = handle(async (context, event) => {
  tw.requireEnv(context, 'WORKSPACE_SID');
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  return runWrapUp(context, tw.twilioClient(context), formFields(event, FIELDS), crypto.randomUUID());
});
