// The schedule config this service runs with, and the schedule module that reads it.
//
//   const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
//   const answer = await cfg.withBook(context, (book) => book.check(name, simulate, Date.now()));
//   const text = await cfg.runningText(context);      // the config document as deployed
//   cfg.schedule                                      // the evaluation module (for callWasm)
//   cfg.admin                                         // the admin API's module (crates/schedule-admin)
//   cfg.serverlessEnv(context)                        // {serviceSid, environmentSid} for its machines
//
// In Twilio the config is the running build's private asset /config.json, read once per container
// and loaded tolerantly (an invalid rule breaks only the schedules that use it; they fail open).
// Locally against the emulator (TWILIO_API_ORIGIN, SERVICE_SID and ENVIRONMENT_SID set, as
// `npm start` and the tests do) the running build is the emulator environment's deployed build:
// its /config.json upload is read from the emulator, so a local publish changes what
// check-schedule and admin/list answer, as a deployment would. Until something is deployed there,
// the local assets/config.private.json is used.
const fs = require('fs');
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);

// common/client (for requireEnv), needed only against the emulator and by the admin functions:
// check-schedule's cold start in Twilio does not load it (docs/schedule-manager.md, "Cold start").
const client_ = () => require(Runtime.getFunctions()['common/client'].path);

/** The service and environment the function runs in, as the admin machines take them. */
function serverlessEnv(context) {
  const { requireEnv } = client_();
  return { serviceSid: requireEnv(context, 'SERVICE_SID'), environmentSid: requireEnv(context, 'ENVIRONMENT_SID') };
}

// State: loaded books by config version ('asset' for the shipped file), at most a few.
const schedule = wasmModule('schedule', () => new Map());
// Only the admin functions load this one: check-schedule's module holds evaluation alone.
const admin = wasmModule('schedule_admin');

const ASSET = { key: 'asset', text: async () => fs.readFileSync(Runtime.getAssets()['/config.json'].path, 'utf8') };

// Against the emulator, the machine `startRunningConfig` (crates/schedule-admin) says which
// /config.json version the environment runs (common/effects reads the environment, then its
// build); its content comes from the emulator's own endpoint (the executor's emulatedAssetContent).
async function emulatedSource(context) {
  const effects = require(Runtime.getFunctions()['common/effects'].path);
  const { HttpError } = require(Runtime.getFunctions()['common/http'].path);
  const found = await effects.run(context, admin, (wasm) => wasm.startRunningConfig(serverlessEnv(context)));
  if (found.status !== 200) throw new HttpError(found.status, found.body.error, found.body.twilioError ? { twilioError: found.body.twilioError } : {});
  const { versionSid } = found.body;
  return versionSid ? { key: versionSid, text: () => effects.emulatedAssetContent(context, versionSid) } : ASSET;
}

/** Whether the running config is read from the emulator (else it is the local asset): common/client's apiOrigin, without loading it. */
function emulated(context) {
  const origin = context.TWILIO_API_ORIGIN && String(context.TWILIO_API_ORIGIN).trim().replace(/\/+$/, '');
  return Boolean(origin && context.SERVICE_SID && context.ENVIRONMENT_SID);
}

/** Where the running config comes from: `{key, text()}`. */
async function runningSource(context) {
  return emulated(context) ? emulatedSource(context) : ASSET;
}

/** The running config document's text. */
async function runningText(context) {
  return (await runningSource(context)).text();
}

/** Runs `fn(book, wasm)` with the ScheduleBook of the running config (loaded once per version). */
async function withBook(context, fn) {
  const source = await runningSource(context);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const loaded = schedule.call((wasm, books) => books.has(source.key));
    const text = loaded ? null : await source.text();
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

module.exports = { schedule, admin, withBook, runningText, emulated, serverlessEnv };
