// The schedule config this service runs with, and the modules that read it. In Twilio it is the
// build's private asset /config.json, read once per container. Against the emulator
// (TWILIO_API_ORIGIN, SERVICE_SID, ENVIRONMENT_SID set: `npm start`, the tests) it is the deployed
// build's /config.json, so a local publish changes check-schedule's answers as in Twilio.
//   await withBook(context, (book) => book.check(name, simulate, Date.now()));
const fs = require('fs');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);

// Loaded only against the emulator and by the admin functions: not on check-schedule's cold start in Twilio.
const common = (name) => require(Runtime.getFunctions()[`common/${name}`].path);

const schedule = wasmModule('schedule', () => new Map()); // loaded books by config version ('asset': the shipped file)
const admin = wasmModule('schedule_admin'); // only the admin functions load it
const ASSET = { key: 'asset', text: async () => fs.readFileSync(Runtime.getAssets()['/config.json'].path, 'utf8') };

const serverlessEnv = (context) => ({ serviceSid: common('client').requireEnv(context, 'SERVICE_SID'), environmentSid: common('client').requireEnv(context, 'ENVIRONMENT_SID') });

/** Whether the running config is read from the emulator (common/client's apiOrigin, without loading it). */
const emulated = (context) => Boolean(context.TWILIO_API_ORIGIN && String(context.TWILIO_API_ORIGIN).trim() && context.SERVICE_SID && context.ENVIRONMENT_SID);

/** Where the running config comes from: `{key, text()}`. Against the emulator crates/schedule-admin's `startRunningConfig` names the version. */
async function runningSource(context) {
  if (!emulated(context)) return ASSET;
  const effects = common('effects');
  const found = await effects.run(context, admin, (wasm) => wasm.startRunningConfig(serverlessEnv(context)));
  if (found.status !== 200) throw new (common('http').HttpError)(found.status, found.body.error, found.body.twilioError ? { twilioError: found.body.twilioError } : {});
  const { versionSid } = found.body;
  return versionSid ? { key: versionSid, text: () => effects.emulatedAssetContent(context, versionSid) } : ASSET;
}

const runningText = async (context) => (await runningSource(context)).text();

/** Runs `fn(book, wasm)` with the ScheduleBook of the running config (loaded once per version). */
async function withBook(context, fn) {
  const source = await runningSource(context);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const text = schedule.call((wasm, books) => books.has(source.key)) ? null : await source.text();
    const out = schedule.call((wasm, books) => {
      if (text !== null && !books.has(source.key)) {
        if (books.size >= 4) books.clear();
        books.set(source.key, wasm.ScheduleBook.load(text));
      }
      const book = books.get(source.key);
      return book ? { value: fn(book, wasm) } : null; // null: the module was reloaded meanwhile
    });
    if (out) return out.value;
  }
  throw new Error('The schedule module was reloaded twice while loading the config; please retry.');
}

module.exports = { admin, withBook, runningText, emulated, serverlessEnv };
