// GET|POST /voicemail — a worker's voicemail box (docs/voicemail.md). Flex token in
// `Authorization: Bearer` (or `Token` in a POST body; never in a URL). An agent reaches their own
// box, a supervisor or admin anyone's (`workerSid`).
//   action=list (default) [pageSize 1-100] [pageToken]  -> {workerSid, voicemails, unheard, unheardAtLeast, nextPageToken}
//   action=heard callSid [heard=true|false]             -> {voicemail}
//   action=delete callSid                               -> {deleted: true, callSid, recordingSid} (the Twilio recording too)
//   action=media callSid                                -> the audio (audio/mpeg or audio/wav)
// Bad input: 400 naming it; another agent's box: 403; no such voicemail: 404. The machine
// `startVoicemailBox` of crates/voicemail decides (who may reach which box included); common/effects
// makes its requests, the recording's audio too.
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const vm = require(Runtime.getFunctions()['common/voicemail'].path);

const FIELDS = ['action', 'workerSid', 'callSid', 'heard', 'pageSize', 'pageToken'];

exports.handler = handle(async (context, event) => {
  const who = await auth.identify(context, event);
  return vm.run(context, (wasm, env) => wasm.startVoicemailBox(formFields(event, FIELDS), who, env));
});
