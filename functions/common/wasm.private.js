// Loads a domain crate's wasm module once per container and keeps it usable after a trap.
//
//   const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
//   const schedule = wasmModule('schedule', (wasm) => new wasm.ScheduleBook(configJson));
//   const answer = schedule.call((wasm, state) => state.check(name, simulate, Date.now()));
//
// A trap (`RuntimeError: unreachable`, out of bounds...) leaves the instance's memory in an unknown
// state, so the module is dropped: the failing call throws a 500 error and the next call loads a
// fresh instance (and rebuilds the state from `init`).
const path = require('path');

class WasmTrapError extends Error {
  constructor(crate, cause) {
    super(`The ${crate} module failed (${cause.message}); it has been reloaded, please retry.`);
    this.name = 'WasmTrapError';
    this.status = 500;
    this.cause = cause;
  }
}

/** Where the glue of `crate` lives: inside the Twilio runtime, or beside this file locally. */
function gluePath(crate) {
  const key = `wasm/${crate}`;
  if (typeof Runtime !== 'undefined' && Runtime.getFunctions()[key]) {
    return Runtime.getFunctions()[key].path;
  }
  const local = path.join(__dirname, '..', 'wasm', `${crate}.private.js`);
  if (!require('fs').existsSync(local)) {
    // Deployed (or served) from a checkout nobody built: say so instead of "Cannot find module".
    throw Object.assign(
      new Error(
        `This service was deployed without its WebAssembly: functions/wasm/${crate}.private.js is missing. ` +
          'Run `npm install` (it builds the bundle; needs Rust from https://rustup.rs) or `npm run build`, then deploy again.',
      ),
      { status: 500, extra: { code: 'unbuilt_deployment' } },
    );
  }
  return local;
}

function wasmModule(crate, init = () => undefined, { resolveGlue = gluePath } = {}) {
  let loaded = null; // { wasm, state }

  function load() {
    if (!loaded) {
      const file = resolveGlue(crate);
      delete require.cache[require.resolve(file)];
      const wasm = require(file);
      loaded = { wasm, state: init(wasm) };
    }
    return loaded;
  }

  return {
    /** Runs `fn(wasm, state)`; a wasm trap drops the instance and throws a WasmTrapError. */
    call(fn) {
      const { wasm, state } = load();
      try {
        return fn(wasm, state);
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) {
          loaded = null;
          throw new WasmTrapError(crate, err);
        }
        throw err;
      }
    },
    /** Forgets the instance, e.g. when `init` input changed. */
    reset() {
      loaded = null;
    },
  };
}

/**
 * Runs a domain crate call (`mod.call(fn)`) and turns the crate's errors (`{code, status,
 * parameter}`, see crates/wasm-face) into an error the HTTP layer answers with that status and a
 * JSON body `{error, code, parameter}`; traps keep their own 500.
 */
function callWasm(mod, fn) {
  try {
    return mod.call(fn);
  } catch (err) {
    if (err && typeof err.code === 'string' && Number.isInteger(err.status) && !(err instanceof WasmTrapError)) {
      const extra = { code: err.code, ...(err.parameter ? { parameter: err.parameter } : {}) };
      throw Object.assign(new Error(err.message), { status: err.status, extra });
    }
    throw err;
  }
}

module.exports = { wasmModule, callWasm, WasmTrapError };
