#!/usr/bin/env node
// A week of synthetic contact-center traffic in the emulator (emulator/history-traffic.js, on a
// simulated clock), then that week's queue history stored in Sync through the product's own
// backfill (functions/common/history), so the history view shows real charts offline.
//
//   const { seedHistory } = require('./seed-history');
//   await seedHistory(emulator, { days: 7, queues: ['Sales', 'Support', 'Billing'], env });
//   SEED_HISTORY=1 npm start          // scripts/start.js calls it once the emulator is up
//   node scripts/seed-history.js      // alone: seeds a fresh emulator and reports
//
// `npm run simulate` does the same against a running stack (POST /emulator/history/seed, then
// GET /queue-history until nothing is missing).
const path = require('path');
const twilio = require('twilio');
const { stepHistory } = require('../emulator/history-traffic');
const { createHistory } = require('../functions/common/history.private.js');

const HOUR = 3600000;
const root = path.resolve(__dirname, '..');

/** The `twilio` client aimed at a running emulator (as functions/common/client does with TWILIO_API_ORIGIN). */
function clientFor(emulator) {
  const env = emulator.functionEnv();
  const inner = new twilio.RequestClient({ timeout: 30000 });
  const httpClient = {
    request(opts) {
      const target = new URL(opts.uri);
      return inner.request({ ...opts, headers: { ...(opts.headers || {}), 'X-Forwarded-Host': target.host }, uri: `${emulator.origin}${target.pathname}${target.search}` });
    },
  };
  return twilio(env.ACCOUNT_SID, env.AUTH_TOKEN, { httpClient });
}

/** Steps `days` of traffic into the emulator, then stores every closed hour of them as queue history. */
async function seedHistory(emulator, { days = 7, queues, env = {}, now = Date.now(), seed = 42, onAgentEvent, agentSince, log = () => {} } = {}) {
  // The agents' events of these days from `agentSince` (the emulator's agent model) go to `onAgentEvent` (agent history).
  const stepped = stepHistory(emulator.ctx, { days, queues, seed, now, onAgentEvent, agentSince });
  log(`seed-history: ${stepped.tasks} tasks in ${stepped.queues.length} queues over ${days} days`);
  const wasm = require(path.join(root, 'functions', 'wasm', 'history.private.js'));
  const fEnv = emulator.functionEnv();
  // Write pacing waits on the simulated clock too; it is set back to the real time at the end.
  const sleep = async (ms) => void emulator.clock.advance(ms);
  const history = createHistory({
    h: new wasm.History(env),
    client: clientFor(emulator),
    workspaceSid: fEnv.WORKSPACE_SID,
    syncServiceSid: fEnv.SYNC_SERVICE_SID,
    now: () => emulator.clock.now(),
    sleep,
  });
  const listed = await history.listQueues();
  const hours = [];
  for (let hour = Date.parse(stepped.from); hour < Date.parse(stepped.to); hour += HOUR) hours.push(new Date(hour).toISOString().replace('.000Z', 'Z'));
  // One invocation's worth of requests: the workers and activity events are listed once.
  const session = history.session(hours[0]);
  for (const hour of hours) await history.closeHour(hour, listed, session);
  emulator.clock.advance(Date.now() - emulator.clock.now());
  log(`seed-history: ${hours.length} hours stored (${history.counts.taskrouterCalls} TaskRouter calls, ${history.counts.syncWrites} Sync writes)`);
  return { tasks: stepped.tasks, hours: hours.length, queues: stepped.queues };
}

module.exports = { seedHistory, clientFor };

if (require.main === module) {
  (async () => {
    const { startEmulator } = require('../emulator');
    const emulator = await startEmulator({ port: 0 });
    const t0 = Date.now();
    const result = await seedHistory(emulator, { log: console.log, env: { QUEUE_STATS_TIME_ZONE: process.env.QUEUE_STATS_TIME_ZONE || 'UTC' } });
    console.log(`seed-history: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`, JSON.stringify(result.queues));
    await emulator.close();
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
