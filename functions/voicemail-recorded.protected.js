// POST /voicemail-recorded?workerSid=WK…&reason=… (Twilio's recording status callback and
// transcription callback of the voicemail <Record>; protected: signed by Twilio)
// Stores the call's voicemail in Sync `Voicemail.<workerSid>` (key = call SID: one per call),
// merging what each callback carries. Duplicates change nothing; 503 exactly when Twilio's
// redelivery (`#rc=3&rp=5xx,ct,rt` on the URL) can finish the job. The machine
// `startVoicemailStore` of crates/voicemail decides; common/effects makes its requests.
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const vm = require(Runtime.getFunctions()['common/voicemail'].path);

exports.handler = handle(async (context, event) => vm.run(context, (wasm, env) => wasm.startVoicemailStore(formFields(event, vm.CALLBACK_FIELDS), env)));
