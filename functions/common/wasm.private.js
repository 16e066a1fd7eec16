// Loads a crate's wasm module once per container (docs/architecture.md, `functions/common/`).
//   callWasm(wasmModule('schedule', (wasm) => new wasm.ScheduleBooks()), (wasm, books) => books.has(key))
//   machines('voicemail', 'voicemailSettings').run(context, (wasm, input) => wasm.startVoicemailBox(...))
// A trap leaves the instance's memory unknown: it is dropped, the call is a 500, the next loads anew.
const path = require('path');
const { randomUUID } = require('crypto');

class WasmTrapError extends Error {
  constructor(crate, cause) {
    super(`The ${crate} module failed (${cause.message}); it has been reloaded, please retry.`);
    Object.assign(this, { name: 'WasmTrapError', status: 500, cause });
  }
}

/** The glue of `crate`: the Twilio runtime's, or beside this file (scripts, tests). */
function gluePath(crate) {
  const fn = typeof Runtime !== 'undefined' && Runtime.getFunctions()[`wasm/${crate}`];
  const file = fn ? fn.path : path.join(__dirname, '..', 'wasm', `${crate}.private.js`);
  if (fn || require('fs').existsSync(file)) return file;
  const message = `This service was deployed without its WebAssembly: functions/wasm/${crate}.private.js is missing. Run \`npm install\` (it builds the bundle; needs Rust from https://rustup.rs), then deploy again.`;
  throw Object.assign(new Error(message), { status: 500, extra: { code: 'unbuilt_deployment' } });
}

/** Settings `names` as set in `context`, as text; unset ones left out. */
const settingsIn = (context, names) => Object.fromEntries(names.filter((n) => context[n] !== undefined && context[n] !== null).map((n) => [n, String(context[n])]));

function wasmModule(crate, init = () => undefined, { resolveGlue = gluePath } = {}) {
  let loaded = null; // {wasm, state}
  let names = null; // the settings the crate reads (never a secret)
  const mod = {
    /** `fn(wasm, state)`; a trap drops the instance and throws a WasmTrapError. */
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
    reset: () => (loaded = null), // e.g. when `init`'s input changed
    /** The settings the export `namesExport` lists, as set in `context`. */
    settings(context, namesExport) {
      names = names || callWasm(mod, (w) => w[namesExport]());
      return settingsIn(context, names);
    },
  };
  return mod;
}

const modules = new Map();
/** The container's one stateless module of `crate`. */
const shared = (crate) => modules.get(crate) || modules.set(crate, wasmModule(crate)).get(crate);

/** `mod.call(fn)`; a crate's error (`{code, status, parameter, log}`, crates/wasm-face) becomes one common/http answers (and logs) with. */
function callWasm(mod, fn) {
  try {
    return mod.call(fn);
  } catch (err) {
    if (!(err && typeof err.code === 'string' && Number.isInteger(err.status)) || err instanceof WasmTrapError) throw err;
    const extra = { code: err.code, ...(err.parameter ? { parameter: err.parameter } : {}) };
    throw Object.assign(new Error(err.message), { status: err.status, extra, log: err.log });
  }
}

// A crate's machines on common/effects (`io`: its options). A start gets `{env, owner, run, nonce, nowMs, ...extra}`:
// its settings, this container's id, a run id, a random number. `oneAtATime`: a hook run waits for the last (its memory).
function machines(crate, settingsExport, { oneAtATime = false, ...io } = {}) {
  const mod = wasmModule(crate);
  const owner = randomUUID();
  let last = Promise.resolve();
  function run(context, start, extra = {}) {
    const input = { env: mod.settings(context, settingsExport), owner, run: randomUUID(), nonce: Math.floor(Math.random() * 1000), nowMs: Date.now(), ...extra };
    const effects = require(Runtime.getFunctions()['common/effects'].path); // here: it requires this file
    return effects.run(context, mod, (wasm) => start(wasm, input), io);
  }
  /** The event callback's hook: the answer's body, or `{error}`; never throws. */
  function hook(context, start, extra) {
    const body = (oneAtATime ? last : Promise.resolve()).then(() => run(context, start, extra)).then((answer) => answer.body);
    if (oneAtATime) last = body.catch(() => {});
    return body.catch((err) => (console.error(`${crate} hook:`, err), { error: (err && err.message) || String(err) }));
  }
  return { mod, run, hook };
}

module.exports = { wasmModule, shared, callWasm, settingsIn, machines, WasmTrapError };
