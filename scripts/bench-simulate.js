#!/usr/bin/env node
// How the local runtime holds up under `npm run simulate`: starts `npm start`'s stack
// (scripts/start.js: the emulator and twilio-run, on free ports), runs `scripts/simulate.js` for
// `--minutes` of live day, and every 2 s fetches a static file of the runtime and counts the
// processes and memory of the stack's process tree. Prints the figures (a benchmark, not a test).
//
//   node scripts/bench-simulate.js [--minutes 5] [--history-days 0] [--live-reload]
//
// `--live-reload` measures twilio-run's default mode (a process forked per request, modules
// reloaded on each: LIVE_RELOAD=1 npm start) instead of the one `npm start` uses.
const { spawn, execFileSync } = require('child_process');
const net = require('net');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const MINUTES = Number(opt('minutes', 5));
const HISTORY_DAYS = Number(opt('history-days', 0));
const LIVE = args.includes('--live-reload');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Processes under `pid` (itself included) and their resident memory, from ps. */
function tree(pid) {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const inTree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of rows) if (inTree.has(pp) && !inTree.has(p)) (inTree.add(p), (grew = true));
  }
  const mine = rows.filter(([p]) => inTree.has(p));
  return { processes: mine.length, rssMb: mine.reduce((s, r) => s + r[2], 0) / 1024 };
}

const pct = (list, p) => {
  const s = list.slice().sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null;
};

async function main() {
  const port = await freePort();
  const emuPort = await freePort();
  const env = { ...process.env, PORT: String(port), EMULATOR_PORT: String(emuPort), ...(LIVE ? { LIVE_RELOAD: '1' } : {}) };
  delete env.SEED_HISTORY;
  const stack = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  stack.stdout.on('data', (d) => (log += d));
  stack.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const asset = `${base}/wallboard/history.css`;
  for (let i = 0; ; i++) {
    if (stack.exitCode !== null || i > 600) throw new Error(`the stack did not start:\n${log}`);
    try {
      if ((await fetch(asset)).ok) break;
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  const samples = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      const t0 = Date.now();
      let ms;
      try {
        const res = await fetch(asset, { signal: AbortSignal.timeout(180000) });
        await res.text();
        ms = Date.now() - t0;
      } catch {
        ms = Date.now() - t0;
      }
      samples.push({ ms, ...tree(stack.pid) });
      await sleep(Math.max(0, 2000 - (Date.now() - t0)));
    }
  })();
  const started = Date.now();
  const sim = spawn(
    process.execPath,
    [path.join(root, 'scripts', 'simulate.js'), '--minutes', String(MINUTES), '--history-days', String(HISTORY_DAYS), '--seed', '5', '--emulator', `http://127.0.0.1:${emuPort}`, '--functions', base],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  sim.stdout.on('data', (d) => (out += d));
  sim.stderr.on('data', (d) => (out += d));
  const code = await new Promise((r) => sim.on('exit', r));
  running = false;
  await sampler;
  const requests = await fetch(`http://127.0.0.1:${emuPort}/emulator/requests`)
    .then((r) => r.json())
    .catch(() => ({ requests: [] }));
  const throttled = requests.requests.filter((r) => r.status === 429).length;
  stack.kill('SIGTERM');
  await new Promise((r) => (stack.exitCode !== null ? r() : stack.on('exit', r)));
  const ms = samples.map((s) => s.ms);
  const last = out.trim().split('\n').slice(-2).join('\n');
  console.log(
    `simulate ${MINUTES} min live (${HISTORY_DAYS} history days), ${LIVE ? 'twilio-run default (fork per request, live reload)' : 'npm start (--no-fork-process --no-live)'}, exit ${code}, ${((Date.now() - started) / 60000).toFixed(1)} min in all`,
  );
  console.log(`  static file (${samples.length} samples every 2 s): median ${pct(ms, 0.5)} ms, p95 ${pct(ms, 0.95)} ms, max ${Math.max(...ms)} ms; over 1 s: ${ms.filter((m) => m > 1000).length}`);
  console.log(`  stack processes: max ${Math.max(...samples.map((s) => s.processes))}; resident memory: max ${Math.round(Math.max(...samples.map((s) => s.rssMb)))} MB`);
  console.log(`  Sync/API 429 answers from the emulator: ${throttled}`);
  console.log(`  ${last.replace(/\n/g, '\n  ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
