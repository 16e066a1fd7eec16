#!/usr/bin/env node
// Builds every domain crate that has a wasm face (crates/<name>/src/wasm.rs) into the layout that
// works in Twilio (see the README, "How it is built"):
//
//   cargo (wasm32, release) -> wasm-bindgen --target nodejs -> pkg/<crate>/      (raw, not deployed)
//   wasm-opt -Oz (npm binaryen)            -> assets/wasm/<crate>_bg.private.wasm
//   glue with its wasm path rewritten      -> functions/wasm/<crate>.private.js
//
// The rewrite makes the glue read the wasm through Runtime.getAssets(), since deployed private
// assets get opaque file names; the build fails if the text to rewrite is not found. Steps after
// cargo are skipped for a crate whose wasm did not change, so a no-change build takes seconds.
// Crates with a browser face (src/web.rs) are built with `--target web` into assets/<crate>/wasm/,
// and pinned browser libraries are copied from node_modules (BROWSER_ASSETS).
// Finally the shipped schedule config is validated with the module just built.
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

// Honours CARGO_TARGET_DIR and .cargo/config through cargo itself.
const targetDir = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: root, encoding: 'utf8' })).target_directory;

const crates = fs
  .readdirSync(path.join(root, 'crates'))
  .filter((dir) => fs.existsSync(path.join(root, 'crates', dir, 'src', 'wasm.rs')))
  .sort();

// The features rustc enables by default for wasm32-unknown-unknown (all supported by Node 20+);
// wasm-opt must be told, or it rejects the module.
const WASM_FEATURES = [
  '--enable-bulk-memory',
  '--enable-bulk-memory-opt',
  '--enable-nontrapping-float-to-int',
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-multivalue',
  '--enable-reference-types',
];

// check-schedule answers from a fresh container on Studio's call path, and V8 compiles each wasm
// function on its first call. By default wasm-opt inlines every function that has one caller, which
// merges the schedule crate's whole config loader into one 36 KB function compiled whole on the
// first load; capping that inlining leaves functions a first answer never runs uncompiled (the load
// and first check of the benchmark config: about 13 ms instead of 19 ms, README "Benchmarks").
const WASM_OPT_EXTRA = { schedule: ['--one-caller-inline-max-function-size', '200'] };

function rewriteGlue(glue, name) {
  // wasm-bindgen's nodejs glue reads `${__dirname}/<name>_bg.wasm` with fs.readFileSync.
  const original = `\`\${__dirname}/${name}_bg.wasm\``;
  if (!glue.includes(original)) {
    throw new Error(`build: the ${name} glue no longer contains ${original}; update the rewrite in scripts/build.js`);
  }
  const asset = `/wasm/${name}_bg.wasm`;
  const located =
    `((typeof Runtime !== 'undefined' && Runtime.getAssets()['${asset}'])` +
    ` ? Runtime.getAssets()['${asset}'].path` +
    ` : require('path').join(__dirname, '..', '..', 'assets', 'wasm', '${name}_bg.private.wasm'))`;
  return glue.split(original).join(located);
}

function buildCrate(crate) {
  const name = crate.replace(/-/g, '_');
  const built = path.join(targetDir, 'wasm32-unknown-unknown', 'release', `${name}.wasm`);
  const pkgDir = path.join(root, 'pkg', name);
  const wasmOut = path.join(root, 'assets', 'wasm', `${name}_bg.private.wasm`);
  const glueOut = path.join(root, 'functions', 'wasm', `${name}.private.js`);
  const stampFile = path.join(pkgDir, '.source-sha256');

  const digest = crypto.createHash('sha256').update(fs.readFileSync(built)).update(fs.readFileSync(__filename)).digest('hex');
  const upToDate = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === digest && fs.existsSync(wasmOut) && fs.existsSync(glueOut);
  if (upToDate) {
    console.log(`build: ${crate} unchanged`);
    return;
  }
  fs.rmSync(pkgDir, { recursive: true, force: true });
  run('wasm-bindgen', ['--target', 'nodejs', '--no-typescript', '--out-dir', pkgDir, built]);
  fs.mkdirSync(path.dirname(wasmOut), { recursive: true });
  fs.mkdirSync(path.dirname(glueOut), { recursive: true });
  const extra = WASM_OPT_EXTRA[crate] || [];
  run(bin('wasm-opt'), ['-Oz', ...extra, ...WASM_FEATURES, '--strip-debug', '--strip-producers', path.join(pkgDir, `${name}_bg.wasm`), '-o', wasmOut]);
  const glue = fs.readFileSync(path.join(pkgDir, `${name}.js`), 'utf8');
  fs.writeFileSync(glueOut, rewriteGlue(glue, name));
  fs.writeFileSync(stampFile, digest);
  console.log(`build: ${crate} -> ${path.relative(root, wasmOut)} (${fs.statSync(wasmOut).size} bytes), ${path.relative(root, glueOut)}`);
}

// A crate with a browser face (src/web.rs) is built with `--target web` for its public page:
// crates/<name> -> assets/<name>/wasm/<name>.js (an ES module) and <name>_bg.wasm.
const webCrates = fs
  .readdirSync(path.join(root, 'crates'))
  .filter((dir) => fs.existsSync(path.join(root, 'crates', dir, 'src', 'web.rs')))
  .sort();

function buildWebCrate(crate) {
  const name = crate.replace(/-/g, '_');
  const built = path.join(targetDir, 'wasm32-unknown-unknown', 'release', `${name}.wasm`);
  const pkgDir = path.join(root, 'pkg', `${name}-web`);
  const outDir = path.join(root, 'assets', crate, 'wasm');
  const stampFile = path.join(pkgDir, '.source-sha256');
  const digest = crypto.createHash('sha256').update(fs.readFileSync(built)).update(fs.readFileSync(__filename)).digest('hex');
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === digest && fs.existsSync(path.join(outDir, `${name}.js`))) return;
  fs.rmSync(pkgDir, { recursive: true, force: true });
  run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', pkgDir, built]);
  fs.mkdirSync(outDir, { recursive: true });
  run(bin('wasm-opt'), ['-Oz', ...WASM_FEATURES, '--strip-debug', '--strip-producers', path.join(pkgDir, `${name}_bg.wasm`), '-o', path.join(outDir, `${name}_bg.wasm`)]);
  fs.copyFileSync(path.join(pkgDir, `${name}.js`), path.join(outDir, `${name}.js`));
  fs.writeFileSync(stampFile, digest);
  console.log(`build: ${crate} (browser) -> ${path.relative(root, outDir)}/`);
}

function validateShippedConfig() {
  const { ScheduleBook } = require(path.join(root, 'functions', 'wasm', 'schedule.private.js'));
  const file = path.join(root, 'assets', 'config.private.json');
  try {
    new ScheduleBook(fs.readFileSync(file, 'utf8')).free();
  } catch (err) {
    throw new Error(`build: ${path.relative(root, file)} is invalid: ${err.message}`, { cause: err });
  }
  console.log('build: assets/config.private.json is valid');
}

// Browser libraries the public pages load, copied from their pinned npm packages (not committed).
const BROWSER_ASSETS = [
  { from: 'node_modules/twilio-sync/builds/twilio-sync.min.js', to: 'assets/wallboard/vendor/twilio-sync.js' },
  // The history view's charts (docs/queue-history.md).
  { from: 'node_modules/chart.js/dist/chart.umd.min.js', to: 'assets/wallboard/vendor/chart.js' },
];

function copyBrowserAssets() {
  for (const { from, to } of BROWSER_ASSETS) {
    const source = fs.readFileSync(path.join(root, from));
    const target = path.join(root, to);
    if (fs.existsSync(target) && fs.readFileSync(target).equals(source)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, source);
    console.log(`build: ${from} -> ${to}`);
  }
}

try {
  copyBrowserAssets();
  const packages = [...crates, ...webCrates].flatMap((c) => ['-p', c]);
  run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', ...packages]);
  crates.forEach(buildCrate);
  webCrates.forEach(buildWebCrate);
  if (crates.includes('schedule')) validateShippedConfig();
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
