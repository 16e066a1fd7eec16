// Voicemail for direct calls (docs/voicemail.md): crates/voicemail's machines decide everything;
// common/effects makes their Twilio requests.
//   const vm = require(Runtime.getFunctions()['common/voicemail'].path);
//   return vm.run(context, (wasm, env) => wasm.startVoicemailBox(fields, who, env));
//   await vm.voicemailHook(context, fields)   // the TaskRouter event callback's hook; never throws
const { machines } = require(Runtime.getFunctions()['common/wasm'].path);

const voicemail = machines('voicemail', 'voicemailSettings'); // voicemail::SETTINGS, never a secret
const BOARD_MS = 3000;
const CALLBACK_FIELDS = ['workerSid', 'reason', 'CallSid', 'RecordingSid', 'RecordingStatus', 'RecordingDuration', 'From', 'To', 'TranscriptionStatus', 'TranscriptionText'];

/** Runs a voicemail machine, `start(wasm, env)`, to its answer `{status, body, contentType?, warning?, base64?}`. */
async function run(context, start) {
  const { changedBox, ...answer } = await voicemail.run(context, (wasm, { env }) => start(wasm, env));
  if (!changedBox) return answer;
  // The box's unheard count (the machine's last step) onto the live agents view: at most 3 s, never failing the answer.
  const live = require(Runtime.getFunctions()['common/agents-live'].path);
  const out = await live.agentsLiveUnheard(context, changedBox.workerSid, changedBox.unheard, changedBox.atMs, BOARD_MS);
  if (out && out.error) console.error(`voicemail: the unheard count of ${changedBox.workerSid} is not on the agents view yet: ${out.error}`);
  return answer;
}

/** The event callback's hook: the machine's summary of what it did, or `{error}`; never throws. */
const voicemailHook = (context, fields) => voicemail.hook(context, (wasm, { env, run }) => wasm.startVoicemailHook(fields, env, run));

module.exports = { run, voicemailHook, CALLBACK_FIELDS };
