// Voicemail for direct calls (docs/voicemail.md): crates/voicemail's machines, run on the effects
// executor (common/effects), which makes their Twilio requests. The machines decide everything.
//
//   const vm = require(Runtime.getFunctions()['common/voicemail'].path);
//   return vm.run(context, (wasm, env) => wasm.startVoicemailBox(fields, who, env));
//   await vm.voicemailHook(context, fields)   // the TaskRouter event callback's hook; never throws
//
// An answer's notes: `changedBox` (a worker whose box changed) sends their unheard count to the
// live agents view (common/agents-live), bounded and never failing the answer; `warning` and
// `base64` are common/http's.
const { machines } = require(Runtime.getFunctions()['common/wasm'].path);
const { within } = require(Runtime.getFunctions()['common/deadline'].path);

const voicemail = machines('voicemail', 'voicemailSettings'); // voicemail::SETTINGS, never a secret
const BOARD_MS = 3000;
const CALLBACK_FIELDS = ['workerSid', 'reason', 'CallSid', 'RecordingSid', 'RecordingStatus', 'RecordingDuration', 'From', 'To', 'TranscriptionStatus', 'TranscriptionText'];

/** The worker's unheard count (the machine counts the box) onto the live agents view; never throws, at most 3 s. */
async function unheardOnBoard(context, workerSid) {
  const live = require(Runtime.getFunctions()['common/agents-live'].path);
  if (!live.boardSidOf(context)) return;
  const at = Date.now();
  const work = voicemail
    .run(context, (wasm, { env }) => wasm.startVoicemailUnheard(workerSid, env))
    .then((counted) => (counted.status === 200 ? live.agentsLiveUnheard(context, workerSid, counted.body.unheard, at, BOARD_MS) : counted.body))
    .catch((err) => ({ error: (err && err.message) || String(err) }));
  const out = await within(BOARD_MS, work, () => ({ error: `not finished after ${BOARD_MS / 1000} s` }));
  if (out && out.error) console.error(`voicemail: the unheard count of ${workerSid} is not on the agents view yet: ${out.error}`);
}

/** Runs a voicemail machine, `start(wasm, env)`, to its answer `{status, body, contentType?, warning?, base64?}`. */
async function run(context, start) {
  const { changedBox, ...answer } = await voicemail.run(context, (wasm, { env }) => start(wasm, env));
  if (changedBox) await unheardOnBoard(context, changedBox);
  return answer;
}

/** The event callback's hook: the machine's summary of what it did, or `{error}`; never throws. */
const voicemailHook = (context, fields) => voicemail.hook(context, (wasm, { env, run }) => wasm.startVoicemailHook(fields, env, run));

module.exports = { run, voicemailHook, CALLBACK_FIELDS };
