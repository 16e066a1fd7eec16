#!/usr/bin/env node
// `npm start`: serves every function locally with twilio-run on http://localhost:3000 (PORT to
// change it). Without ACCOUNT_SID/AUTH_TOKEN in .env, a loopback Twilio API emulator starts too and
// the functions talk to it, so everything works offline; with them, the functions talk to Twilio.
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const port = process.env.PORT || '3000';

function readDotEnv() {
  const file = path.join(root, '.env');
  if (!fs.existsSync(file)) return {};
  const vars = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) vars[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

async function main() {
  const dotenv = readDotEnv();
  // twilio-run lets every value of its env file win, even an empty `SYNC_SERVICE_SID=`; so .env is
  // merged here (empty values left out, the emulator's values winning) into target/start.env.
  const fromFile = Object.fromEntries(Object.entries(dotenv).filter(([, value]) => value !== ''));
  const env = { ...process.env };
  const functionEnv = { ...fromFile };
  const hasCredentials = Boolean(dotenv.ACCOUNT_SID && dotenv.AUTH_TOKEN);
  let emulator = null;
  if (!hasCredentials) {
    const { startEmulator, describeForHumans } = require('../emulator');
    emulator = await startEmulator({ port: Number(process.env.EMULATOR_PORT || 3001) });
    Object.assign(functionEnv, emulator.functionEnv());
    // The functions' client names the parameters twilio-node would drop, for the emulator to refuse.
    env.NODE_OPTIONS = require('../emulator/client-guard').withGuard(env.NODE_OPTIONS);
    console.log(describeForHumans(emulator.origin).join('\n'));
    console.log(require('./direct-call-curls').directCallCurls(emulator.origin, `http://localhost:${port}`, emulator.functionEnv()).join('\n'));
    // The admin functions edit the service they run in (SERVICE_SID/ENVIRONMENT_SID, seeded by the
    // emulator): deploy this checkout there, so they and check-schedule answer from its build.
    try {
      const r = await require('./deploy').deployProject(emulator.functionEnv(), { log: () => {} });
      console.log(`  Deployed this checkout to the emulator (build ${r.buildSid}); /admin/* edit and publish it, check-schedule follows.`);
    } catch (err) {
      console.warn(`  Could not deploy this checkout to the emulator (${err.message}); /admin/* answer 409 until something is deployed.`);
    }
    // SEED_HISTORY=1: a week of synthetic traffic and its queue history (docs/queue-history.md).
    // The queues of `npm run simulate` (one model), so a simulate afterwards finds them seeded and
    // stored: it seeds and stores nothing twice, and no queue is missing from the stored hours.
    if (process.env.SEED_HISTORY) {
      const queues = Object.keys(require('../emulator/contact-center-model').MODEL.queues);
      // The same days' agents (the emulator's one agent model) recorded as agent history: the last
      // SEED_AGENT_DAYS days (default 1; a day of the four queues is about 20,000 agent events).
      const agentDays = Number(process.env.SEED_AGENT_DAYS || 1);
      const since = Date.now() - agentDays * 86400000;
      const events = [];
      await require('./seed-history').seedHistory(emulator, {
        env: fromFile,
        queues,
        log: console.log,
        onAgentEvent: (p) => p.EventType !== 'reservation.created' && events.push(p),
        agentSince: since,
      });
      await require('./seed-agent-history').seedAgentHistory(emulator, { env: fromFile, events, log: console.log });
    }
  } else {
    console.log('Using the Twilio account in .env (ACCOUNT_SID/AUTH_TOKEN).');
  }
  console.log(`Functions: http://localhost:${port}/  (e.g. /check-schedule?name=Support)`);
  const key = functionEnv.WALLBOARD_KEY || process.env.WALLBOARD_KEY;
  if (key) {
    console.log(`Wallboard (WALLBOARD_KEY): http://localhost:${port}/wallboard/index.html#key=${encodeURIComponent(key)}`);
    console.log(`  on a TV:                 http://localhost:${port}/wallboard/index.html?kiosk=1#key=${encodeURIComponent(key)}`);
  } else {
    console.log(`Wallboard: http://localhost:${port}/wallboard/index.html (set WALLBOARD_KEY in .env for a TV's URL; \`npm run simulate\` prints one with a supervisor token)`);
  }

  const twilioRun = path.join(root, 'node_modules', '.bin', 'twilio-run');
  const envFile = path.join(root, 'target', 'start.env');
  fs.mkdirSync(path.dirname(envFile), { recursive: true });
  fs.writeFileSync(
    envFile,
    Object.entries(functionEnv)
      .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
      .join('\n'),
  );
  // One process, modules kept warm between requests, as a deployed container runs them. twilio-run's
  // default forks a process per request and reloads every module (each wasm module compiled again)
  // on each: under `npm run simulate` that grew to 52–68 processes and 1.4 GB on a 2-core machine,
  // and a static file took 65–140 s. LIVE_RELOAD=1 restores the default (edits to functions/ apply
  // without a restart).
  const live = ['1', 'true'].includes(String(process.env.LIVE_RELOAD || '').toLowerCase());
  const args = ['start', '--port', port, '--env', path.relative(root, envFile), ...(live ? [] : ['--no-fork-process', '--no-live'])];
  // twilio-run lists every file under functions/ as a function, private helpers included, and
  // private assets as URLs (neither has one): its listing is passed on without them.
  const hidden = new Set([...privateFunctionPaths(), ...privateFunctionPaths(path.join(root, 'assets'), '', /\.private(\.[^.]+)$/)]);
  const child = spawn(twilioRun, args, { cwd: root, env, stdio: ['inherit', 'pipe', 'pipe'] });
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    let pending = '';
    from.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) if (!listsPrivate(line, hidden)) to.write(`${line}\n`);
    });
    from.on('end', () => pending && to.write(pending));
  }
  const stop = () => {
    child.kill('SIGTERM');
    if (emulator) emulator.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => {
    if (emulator) emulator.close();
    process.exit(code || 0);
  });
}

/**
 * The URL paths twilio-run gives the private files under `dir`: functions
 * (`functions/common/auth.private.js` -> `/common/auth`) or, with the assets' pattern, assets
 * (`assets/wasm/auth_bg.private.wasm` -> `/wasm/auth_bg.wasm`).
 */
function privateFunctionPaths(dir = path.join(root, 'functions'), prefix = '', pattern = /\.private\.js$/) {
  const out = new Set();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) for (const p of privateFunctionPaths(path.join(dir, entry.name), `${prefix}/${entry.name}`, pattern)) out.add(p);
    else if (pattern.test(entry.name)) out.add(`${prefix}/${entry.name.replace(pattern, (_, ext) => (typeof ext === 'string' ? ext : ''))}`);
  }
  return out;
}

/** A line of twilio-run's listing that names one of `paths` as a function. */
function listsPrivate(line, paths) {
  // eslint-disable-next-line no-control-regex -- terminal colour and link escapes (ESC ... BEL)
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '').replace(/\x1b\]8;;[^\x07]*\x07/g, '');
  const m = /(?:^|[\s/])((?:\/[\w.-]+)+)\s*(?:\(|│|$)/.exec(plain.replace(/https?:\/\/[^/\s]+/, ' '));
  return Boolean(m && paths.has(m[1]) && !/\[private\]/.test(plain));
}

module.exports = { privateFunctionPaths, listsPrivate };

if (require.main !== module) return;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
