// Voicemail for direct calls (docs/voicemail.md): crates/voicemail's machines, run on the effects
// executor (common/effects), which makes their Twilio requests. The machines decide everything.
//
//   const vm = require(Runtime.getFunctions()['common/voicemail'].path);
//   return vm.run(context, (wasm) => wasm.startVoicemailBox(fields, who, vm.envOf(context)));
//   await vm.voicemailHook(context, fields)   // the TaskRouter event callback's hook; never throws
//
// An answer's notes: `warning` goes to the log; `changedBox` (a worker whose box changed) sends
// their unheard count to the live agents view (common/agents-live), bounded and never failing the
// answer; `base64` is a binary body (the recording's audio).
const crypto = require('crypto');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { within } = require(Runtime.getFunctions()['common/deadline'].path);

const voicemail = wasmModule('voicemail');
const BOARD_MS = 3000;
const CALLBACK_FIELDS = ['workerSid', 'reason', 'CallSid', 'RecordingSid', 'RecordingStatus', 'RecordingDuration', 'From', 'To', 'TranscriptionStatus', 'TranscriptionText'];

/** The settings the machines read, as the crate names them (voicemail::SETTINGS; never a secret). */
const envOf = (context) => voicemail.settings(context, 'voicemailSettings');

/** The worker's unheard count (the machine counts the box) onto the live agents view; never throws, at most 3 s. */
async function unheardOnBoard(context, workerSid) {
  const live = require(Runtime.getFunctions()['common/agents-live'].path);
  if (!live.boardSidOf(context)) return;
  const at = Date.now();
  const work = effects
    .run(context, voicemail, (wasm) => wasm.startVoicemailUnheard(workerSid, envOf(context)))
    .then((counted) => (counted.status === 200 ? live.agentsLiveUnheard(context, workerSid, counted.body.unheard, at, BOARD_MS) : counted.body))
    .catch((err) => ({ error: (err && err.message) || String(err) }));
  const out = await within(BOARD_MS, work, () => ({ error: `not finished after ${BOARD_MS / 1000} s` }));
  if (out && out.error) console.error(`voicemail: the unheard count of ${workerSid} is not on the agents view yet: ${out.error}`);
}

/** Runs a voicemail machine to its answer `{status, body, contentType?}`, acting on its notes. */
async function run(context, start) {
  const { changedBox, warning, base64, ...answer } = await effects.run(context, voicemail, start);
  if (warning) console.error(warning);
  if (changedBox) await unheardOnBoard(context, changedBox);
  return base64 ? { ...answer, body: Buffer.from(answer.body, 'base64') } : answer;
}

/** The event callback's hook: the machine's summary of what it did, or `{error}`; never throws. */
async function voicemailHook(context, fields) {
  try {
    return (await run(context, (wasm) => wasm.startVoicemailHook(fields, envOf(context), crypto.randomUUID()))).body;
  } catch (err) {
    console.error('voicemail hook:', err);
    return { error: (err && err.message) || String(err) };
  }
}

module.exports = { run, voicemailHook, envOf, CALLBACK_FIELDS };
