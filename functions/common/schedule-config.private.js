// The running schedule config and its books, loaded once per version (docs/schedule-manager.md, "The running config").
//   await check(context, name, simulate); // check-schedule's {status, body}
const fs = require('fs');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);

// Loaded only against the emulator and by the admin functions: not on check-schedule's cold start in Twilio.
const common = (name) => require(Runtime.getFunctions()[`common/${name}`].path);

const schedule = wasmModule('schedule', (wasm) => new wasm.ScheduleBooks());
const admin = wasmModule('schedule_admin'); // only the admin functions (and the emulator's running config) load it
const asset = () => fs.readFileSync(Runtime.getAssets()['/config.json'].path, 'utf8');

const serverlessEnv = (context) => ({ serviceSid: common('client').requireEnv(context, 'SERVICE_SID'), environmentSid: common('client').requireEnv(context, 'ENVIRONMENT_SID') });
const emulated = (context) => Boolean(context.TWILIO_API_ORIGIN && String(context.TWILIO_API_ORIGIN).trim() && context.SERVICE_SID && context.ENVIRONMENT_SID);

/** The running config `{key, text}` (`text` null: the shipped asset); crates/schedule-admin's `startRunningConfig` reads the emulator's. */
async function running(context) {
  if (!emulated(context)) return { key: 'asset', text: null };
  const found = await common('effects').run(context, admin, (wasm) => wasm.startRunningConfig(serverlessEnv(context)));
  if (found.status !== 200) throw new (common('http').HttpError)(found.status, found.body.error, found.body.twilioError ? { twilioError: found.body.twilioError } : {});
  return found.body;
}

const runningText = async (context) => (await running(context)).text ?? asset();

async function check(context, name, simulate) {
  const { key, text } = await running(context);
  // One synchronous call: a reload of the module (after a trap) cannot come between load and check.
  return schedule.call((wasm, books) => (books.has(key) || books.load(key, text ?? asset()), books.check(key, name, simulate, Date.now())));
}

module.exports = { admin, check, runningText, emulated, serverlessEnv };
