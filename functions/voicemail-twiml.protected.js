// POST /voicemail-twiml?workerSid=WK…[&reason=…][&step=done] (Twilio fetches it; protected: signed by Twilio)
// The voicemail leg of a direct call: the worker's greeting (their `voicemailGreetingUrl`
// attribute, or a default naming them) and <Record> with its callbacks. Studio redirects an
// unavailable worker's call here; the TaskRouter event hook redirects a call its worker did not
// answer or rejected. `step=done` is the <Record> action: it also stores what it carries
// (recording SID, duration, caller) and answers a goodbye, whatever storing does. The machine
// `startVoicemailTwiml` of crates/voicemail decides; common/effects reads the worker and stores.
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const vm = require(Runtime.getFunctions()['common/voicemail'].path);

exports.handler = handle(async (context, event) => {
  const query = formFields(event, ['workerSid', 'reason', 'step']);
  return vm.run(context, (wasm, env) => wasm.startVoicemailTwiml(query, formFields(event, vm.CALLBACK_FIELDS), env));
});
