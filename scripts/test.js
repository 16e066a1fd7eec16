#!/usr/bin/env node
// `npm test`: every check, in the order a failure is cheapest to find.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
// The slowest files first (longest first): `node --test` starts files in the order given, so a long
// file started last would run alone at the end while the other slot idles. The list is the files
// that took longest timed alone, one at a time (README, 2026-12-04: 66 s for simulate down to 4 s
// for voicemail-browser); the rest take under 4 s each and follow alphabetically. A file missing
// from the list only runs later, never not at all.
const SLOWEST = [
  'simulate',
  'history-backfill',
  'wallboard',
  'history-view',
  'queue-history',
  'wallboard-screens',
  'agents-live-browser',
  'agent-history-view',
  'parking',
  'schedule-admin',
  'agents-live',
  'parking-faults',
  'parked-board',
  'queue-stats',
  'schedule-fixtures',
  'staffing',
  'wallboard-cost',
  'studio-deploy',
  'iam-region',
  'agent-history',
  'agent-history-late',
  'schedule-deploy',
  'voicemail-browser',
];
const rank = (f) => {
  const i = SLOWEST.indexOf(f.replace(/\.test\.js$/, ''));
  return i < 0 ? SLOWEST.length : i;
};
const nodeTests = fs
  .readdirSync(path.join(root, 'tests'))
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .sort((a, b) => rank(a) - rank(b))
  .map((f) => path.join('tests', f));
// Test files are independent (each starts its own emulator and runtimes on ports of its own), so
// two run at once; TEST_CONCURRENCY=1 runs them one at a time (to read one file's output alone).
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY) || 2);
const steps = [
  // ESLint and `prettier --check` on the JavaScript: seconds, and the cheapest failure to find.
  ['npm', ['run', '--silent', 'lint']],
  ['cargo', ['fmt', '--all', '--', '--check']],
  ['cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings']],
  ['cargo', ['clippy', '--workspace', '--lib', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']],
  ['cargo', ['test', '--workspace']],
  ['node', ['scripts/build.js']],
  ['node', ['--test', `--test-concurrency=${concurrency}`, ...nodeTests]],
];

// Property tests draw random inputs. Here they use one fixed seed unless PROPTEST_RNG_SEED is set,
// so a CI run is reproducible; `cargo test` on its own explores new random inputs each run.
const env = { ...process.env, PROPTEST_RNG_SEED: process.env.PROPTEST_RNG_SEED || '20261121' };

for (const [cmd, args] of steps) {
  console.log(`\n> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\nnpm test: \`${cmd} ${args.join(' ')}\` failed`);
    process.exit(r.status || 1);
  }
}
