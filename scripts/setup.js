#!/usr/bin/env node
// Installs what the build needs and is missing, so `npm start` and `npm test` work on a fresh
// machine: the wasm32 Rust target, the wasm-bindgen CLI at exactly the version in Cargo.lock, and
// the npm packages. Each step is skipped when already satisfied, so a second run takes a moment.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
const output = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
};

function ensureWasmTarget() {
  if (!output('rustup', ['target', 'list', '--installed']).split('\n').includes('wasm32-unknown-unknown')) {
    console.log('setup: adding the wasm32-unknown-unknown Rust target');
    run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  }
}

/** The wasm-bindgen version Cargo.lock resolved; the CLI must match it exactly. */
function lockedWasmBindgenVersion() {
  if (!fs.existsSync(path.join(root, 'Cargo.lock'))) run('cargo', ['generate-lockfile']);
  const lock = fs.readFileSync(path.join(root, 'Cargo.lock'), 'utf8');
  const m = lock.match(/\[\[package\]\]\nname = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!m) throw new Error('setup: Cargo.lock has no wasm-bindgen package');
  return m[1];
}

function ensureWasmBindgenCli() {
  const want = lockedWasmBindgenVersion();
  const have = output('wasm-bindgen', ['--version']).trim().split(' ')[1];
  if (have === want) return;
  console.log(`setup: installing wasm-bindgen-cli ${want} (found ${have || 'none'}); this takes a few minutes once`);
  // --locked first; some registry mirrors lack a yanked-then-replaced dependency the CLI's lockfile
  // names, and then a fresh resolution of the same CLI version works.
  const args = ['install', 'wasm-bindgen-cli', '--version', `=${want}`];
  const locked = spawnSync('cargo', [...args, '--locked'], { cwd: root, stdio: 'inherit' });
  if (locked.status !== 0) run('cargo', args);
}

function ensureNpmPackages() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  const stale = !fs.existsSync(marker) || fs.statSync(lock).mtimeMs > fs.statSync(marker).mtimeMs;
  if (stale) {
    console.log('setup: installing npm packages');
    // The build runs after setup; the packages' `prepare` build (scripts/prepare.js) is not needed here.
    run('npm', ['ci', '--no-audit', '--no-fund'], { env: { ...process.env, FLEX_CC_SKIP_PREPARE: '1' } });
  }
}

ensureWasmTarget();
ensureWasmBindgenCli();
// `--rust-only`: the Rust tools alone (scripts/prepare.js, run by npm while it installs packages).
if (!process.argv.includes('--rust-only')) ensureNpmPackages();
