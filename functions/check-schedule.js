// GET/POST /check-schedule?name=<schedule>[&simulate=<ISO 8601>]
// Studio's Run Function widget calls this on every inbound call. The schedule crate decides the
// whole answer (status and body) from the running config (common/schedule-config: loaded once per
// version, tolerantly, so a broken rule fails open only the schedules using it); this shim reads
// the request and responds.
const { check, emulated } = require(Runtime.getFunctions()['common/schedule-config'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);

const text = (value) => (value === undefined || value === null ? undefined : String(value));

// Only against the emulator does reading the config make Twilio requests, which need the
// invocation's deadline; in Twilio it is a local asset, so a cold container skips the deadline.
exports.handler = handle(async (context, event) => check(context, text(event.name), text(event.simulate)), { deadline: emulated });
