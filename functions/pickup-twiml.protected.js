// POST /pickup-twiml (Twilio fetches it: the Url of a picked-up call whose <Enqueue> TwiML is too
// long for a call update; protected: signed by Twilio)
//   CallSid
// Answers the pickup's <Enqueue> TwiML (text/xml), built by the parking crate from the call's
// ParkedCalls.Pickups item that pickup-parked-call wrote just before redirecting the call.
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sync = require(Runtime.getFunctions()['common/sync'].path);

const parking = wasmModule('parking');
const PICKUPS_MAP = 'ParkedCalls.Pickups';

exports.handler = handle(async (context, event) => {
  tw.requireEnv(context, 'SYNC_SERVICE_SID');
  const callSid = typeof event.CallSid === 'string' ? event.CallSid : undefined;
  callWasm(parking, (wasm) => wasm.pickupTarget({ callSid })); // a call SID, or 400 before any read
  const item = await sync.fetchItem(context, tw.twilioClient(context), { map: PICKUPS_MAP, key: callSid });
  const twiml = callWasm(parking, (wasm) => wasm.pickupTwiml(callSid, item ? item.data : null));
  return { status: 200, body: twiml, contentType: 'text/xml' };
});
