// Reading Twilio's Sync errors (the voicemail box). Sync requests of the call-parking functions
// go through the effects executor (common/effects, docs/effects.md).
//
//   const { isCode } = require(Runtime.getFunctions()['common/sync'].path);
//   if (isCode(err, 409, 54208)) ...   // Twilio answered 409 with error 54208

/** Whether `err` is Twilio's answer `status` (with error `code`, when given). */
const isCode = (err, status, code) => err && err.status === status && (code === undefined || err.code === code);

module.exports = { isCode };
