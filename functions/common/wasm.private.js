// Loads a crate's wasm module once per container and keeps it usable after a trap.
//
//   const schedule = wasmModule('schedule', (wasm) => new wasm.ScheduleBook(configJson));
//   const answer = callWasm(schedule, (wasm, state) => state.check(name, simulate, Date.now()));
//   const env = voicemail.settings(context, 'voicemailSettings'); // the settings the crate names
//   shared('auth')   // the container's one stateless instance of a crate
//   const history = machines('history_machines', 'historySettings', { resume: 'resumeHistory', text: true, oneAtATime: true });
//   await history.hook(context, (wasm, input) => wasm.startHistoryHook(input)); // never throws
//
// A trap (`RuntimeError: unreachable`...) leaves the instance's memory unknown: the module is
// dropped, the call throws a 500, and the next call loads a fresh instance (state from `init`).
const path = require('path');
const { randomUUID } = require('crypto');

class WasmTrapError extends Error {
  constructor(crate, cause) {
    super(`The ${crate} module failed (${cause.message}); it has been reloaded, please retry.`);
    Object.assign(this, { name: 'WasmTrapError', status: 500, cause });
  }
}

/** Where the glue of `crate` lives: inside the Twilio runtime, or beside this file locally. */
function gluePath(crate) {
  const fn = typeof Runtime !== 'undefined' && Runtime.getFunctions()[`wasm/${crate}`];
  if (fn) return fn.path;
  const local = path.join(__dirname, '..', 'wasm', `${crate}.private.js`);
  if (require('fs').existsSync(local)) return local;
  // Deployed (or served) from a checkout nobody built: say so instead of "Cannot find module".
  const message = `This service was deployed without its WebAssembly: functions/wasm/${crate}.private.js is missing. Run \`npm install\` (it builds the bundle; needs Rust from https://rustup.rs), then deploy again.`;
  throw Object.assign(new Error(message), { status: 500, extra: { code: 'unbuilt_deployment' } });
}

/** Settings `names` as set in `context`, as text; unset ones left out. */
const settingsIn = (context, names) => Object.fromEntries(names.filter((n) => context[n] !== undefined && context[n] !== null).map((n) => [n, String(context[n])]));

function wasmModule(crate, init = () => undefined, { resolveGlue = gluePath } = {}) {
  let loaded = null; // {wasm, state}
  let names = null; // the settings the crate names (never a secret)
  const mod = {
    /** Runs `fn(wasm, state)`; a wasm trap drops the instance and throws a WasmTrapError. */
    call(fn) {
      if (!loaded) {
        const file = resolveGlue(crate);
        delete require.cache[require.resolve(file)];
        const wasm = require(file);
        loaded = { wasm, state: init(wasm) };
      }
      try {
        return fn(loaded.wasm, loaded.state);
      } catch (err) {
        if (!(err instanceof WebAssembly.RuntimeError)) throw err;
        loaded = null;
        throw new WasmTrapError(crate, err);
      }
    },
    /** Forgets the instance, e.g. when `init` input changed. */
    reset: () => (loaded = null),
    /** The settings the export `namesExport` lists, as set in `context` (text), for the machines. */
    settings(context, namesExport) {
      names = names || callWasm(mod, (w) => w[namesExport]());
      return settingsIn(context, names);
    },
  };
  return mod;
}

const modules = new Map();
/** The container's one stateless module of `crate`, shared by whoever needs its rules. */
const shared = (crate) => modules.get(crate) || modules.set(crate, wasmModule(crate)).get(crate);

/**
 * Runs `mod.call(fn)`, turning a crate's error (`{code, status, parameter}`, crates/wasm-face)
 * into one the HTTP layer answers with that status and `{error, code, parameter}`.
 */
function callWasm(mod, fn) {
  try {
    return mod.call(fn);
  } catch (err) {
    if (!(err && typeof err.code === 'string' && Number.isInteger(err.status)) || err instanceof WasmTrapError) throw err;
    const extra = { code: err.code, ...(err.parameter ? { parameter: err.parameter } : {}) };
    throw Object.assign(new Error(err.message), { status: err.status, extra });
  }
}

/**
 * A crate's machines on the executor (common/effects, options `io`), for this container: a start
 * gets `{env, owner, run, nonce, nowMs, ...extra}`: the settings `settingsExport` names, this
 * container's id (its claims, its memory in the crate), an id and a random number per run.
 * `oneAtATime`: a hook run starts when the last one ended (from its memory).
 */
function machines(crate, settingsExport, { oneAtATime = false, ...io } = {}) {
  const mod = wasmModule(crate);
  const owner = randomUUID();
  let last = Promise.resolve();

  /** Runs `start(wasm, input)` to its answer `{status, body}`. */
  function run(context, start, extra = {}) {
    const input = { env: mod.settings(context, settingsExport), owner, run: randomUUID(), nonce: Math.floor(Math.random() * 1000), nowMs: Date.now(), ...extra };
    const effects = require(Runtime.getFunctions()['common/effects'].path); // here: it requires this file
    return effects.run(context, mod, (wasm) => start(wasm, input), io);
  }

  /** The event callback's hook: the answer's body, or `{error}`; never throws. */
  function hook(context, start, extra) {
    const body = (oneAtATime ? last : Promise.resolve()).then(() => run(context, start, extra)).then((answer) => answer.body);
    if (oneAtATime) last = body.catch(() => {});
    return body.catch((err) => {
      console.error(`${crate} hook:`, err);
      return { error: (err && err.message) || String(err) };
    });
  }

  return { mod, run, hook };
}

module.exports = { wasmModule, shared, callWasm, settingsIn, machines, WasmTrapError };
