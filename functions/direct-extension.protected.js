// POST /direct-extension (Studio's Run Function widget; form or JSON `extension`)
// -> {valid, extension, workerSid, workerName, available, reason, activityName, capacityChecked, message}
// Whether the digits a caller entered reach one agent (worker attribute `directExtension`) who can
// take a call now. The machine `startDirectExtension` of crates/direct-calls decides the one
// TaskRouter read a call makes (the workers with a target-workers expression, or the worker's
// voice channel, or none: what this container read in the last DIRECT_EXTENSION_CACHE_SECONDS,
// kept in the module) and the answer; common/effects makes the read. Protected: Studio signs its
// requests, so only this account's flows (and Twilio) reach it. See docs/direct-calls.md.
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const direct = wasmModule('direct_calls');
const text = (v) => (v === undefined || v === null ? undefined : String(v));

exports.handler = handle(async (context, event) => {
  const env = { cacheSeconds: text(context.DIRECT_EXTENSION_CACHE_SECONDS), workspaceSid: text(context.WORKSPACE_SID), twilioFlexWorkspaceSid: text(context.TWILIO_FLEX_WORKSPACE_SID) };
  return effects.run(context, direct, (wasm) => wasm.startDirectExtension({ extension: text(event.extension) }, env, Date.now()));
});
