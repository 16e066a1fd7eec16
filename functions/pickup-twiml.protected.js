// POST /pickup-twiml (Twilio fetches it: the Url of a picked-up call whose <Enqueue> TwiML is too
// long for a call update; protected: signed by Twilio)
//   CallSid
// Answers the pickup's <Enqueue> TwiML (text/xml), built by the parking crate from the call's
// ParkedCalls.Pickups item that pickup-parked-call wrote just before redirecting the call (the
// machine `pickupTwiml` of crates/call-handling; common/effects reads the item).
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const { requireEnv } = require(Runtime.getFunctions()['common/client'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const calls = wasmModule('call_handling');

exports.handler = handle(async (context, event) => {
  const env = { syncServiceSid: requireEnv(context, 'SYNC_SERVICE_SID') };
  const callSid = typeof event.CallSid === 'string' ? event.CallSid : undefined;
  return effects.run(context, calls, (wasm) => wasm.startPickupTwiml(callSid, env));
});
