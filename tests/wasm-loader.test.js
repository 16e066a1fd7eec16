// The loader keeps a module usable after a trap: the failing call gets a 500-class error with a
// message, and the next call runs on a fresh instance. A hand-assembled module stands in for a
// crate, since no crate input is supposed to trap.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { wasmModule, WasmTrapError } = require('../functions/common/wasm.private.js');

// (module (global (mut i32) (i32.const 0))
//   (func (export "bump") (result i32) global.get 0 i32.const 1 i32.add global.set 0 global.get 0)
//   (func (export "trap") unreachable))
const TRAP_MODULE = '0061736d01000000' + '0108026000017f600000' + '0303020001' + '0606017f0141000b' + '070f020462756d70000004747261700001' + '0a11020b00230041016a240023000b0300000b';

function writeGlue() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-loader-'));
  fs.writeFileSync(path.join(dir, 'trap_bg.wasm'), Buffer.from(TRAP_MODULE, 'hex'));
  fs.writeFileSync(
    path.join(dir, 'trap.js'),
    "const bytes = require('fs').readFileSync(`${__dirname}/trap_bg.wasm`);\n" + 'module.exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;\n',
  );
  return path.join(dir, 'trap.js');
}

test('a trap fails that call with a 500 error and the next call gets a fresh instance', () => {
  const glue = writeGlue();
  let inits = 0;
  const mod = wasmModule('trap', () => ++inits, { resolveGlue: () => glue });

  assert.equal(
    mod.call((wasm) => wasm.bump()),
    1,
  );
  assert.equal(
    mod.call((wasm) => wasm.bump()),
    2,
  );
  assert.throws(
    () => mod.call((wasm) => wasm.trap()),
    (err) => err instanceof WasmTrapError && err.status === 500 && /trap module failed \(unreachable\)/.test(err.message),
  );
  // Fresh instance: the global starts over, and `init` ran again.
  assert.equal(
    mod.call((wasm) => wasm.bump()),
    1,
  );
  assert.equal(
    mod.call((wasm, state) => state),
    2,
  );
});

test('errors that are not traps pass through and keep the instance', () => {
  const glue = writeGlue();
  const mod = wasmModule('trap', () => null, { resolveGlue: () => glue });
  assert.equal(
    mod.call((wasm) => wasm.bump()),
    1,
  );
  assert.throws(
    () =>
      mod.call(() => {
        throw new TypeError('bad input');
      }),
    TypeError,
  );
  assert.equal(
    mod.call((wasm) => wasm.bump()),
    2,
  );
});
