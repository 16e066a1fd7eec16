#!/usr/bin/env node
// npm's `prepare` step (runs after `npm install` / `npm ci` in this checkout): builds the bundle,
// so the published way to deploy (`npm install`, then `twilio serverless:deploy`) uploads the
// functions WITH their WebAssembly. Without Rust it fails at once and says how to install it.
//
// scripts/setup.js sets FLEX_CC_SKIP_PREPARE=1 for the `npm ci` it runs: `npm start`, `npm test`
// and `npm run build` build right after setup anyway, and on a fresh machine setup installs the
// npm packages before the build can run.
const { spawnSync } = require('child_process');
const path = require('path');

if (process.env.FLEX_CC_SKIP_PREPARE === '1') process.exit(0);

const has = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
if (!has('cargo') || !has('rustup')) {
  console.error(
    [
      '',
      'npm install: building this bundle needs Rust, which was not found (cargo/rustup not on PATH).',
      'Install it with rustup (https://rustup.rs):',
      "    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh",
      'then open a new shell and run `npm install` again. Deploying without the build uploads',
      'functions without their WebAssembly, and every function would answer 500.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const root = path.resolve(__dirname, '..');
for (const args of [['setup.js', '--rust-only'], ['build.js']]) {
  const r = spawnSync(process.execPath, [path.join(__dirname, args[0]), ...args.slice(1)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}
