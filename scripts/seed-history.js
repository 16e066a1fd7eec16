#!/usr/bin/env node
// A week of synthetic contact-center traffic in the emulator (emulator/history-traffic.js, on a
// simulated clock), then that week's queue history stored in Sync through the product's own
// closing machine (crates/history-machines, on the functions' executor: scripts/queue-history-machine.js),
// so the history view shows real charts offline.
//
//   const { seedHistory } = require('./seed-history');
//   await seedHistory(emulator, { days: 7, queues: ['Sales', 'Support', 'Billing'], env });
//   SEED_HISTORY=1 npm start          // scripts/start.js calls it once the emulator is up
//   node scripts/seed-history.js      // alone: seeds a fresh emulator and reports
//
// `npm run simulate` does the same against a running stack (POST /emulator/history/seed, then
// GET /queue-history until nothing is missing).
const twilio = require('twilio');
const { stepHistory } = require('../emulator/history-traffic');
const { historyMachines } = require('./queue-history-machine');
const { createPacer } = require('../functions/common/effects.private.js');

const HOUR = 3600000;

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
  const fEnv = emulator.functionEnv();
  // Write pacing waits on the simulated clock too; it is set back to the real time at the end.
  const clock = () => emulator.clock.now();
  const history = historyMachines({ context: fEnv, env, client: clientFor(emulator), now: clock, pace: createPacer({ now: clock, sleep: async (ms) => void emulator.clock.advance(ms) }) });
  const hours = [];
  for (let hour = Date.parse(stepped.from); hour < Date.parse(stepped.to); hour += HOUR) hours.push(new Date(hour).toISOString().replace('.000Z', 'Z'));
  // One run: the queues, the workers and the activity events are listed once.
  const closed = await history.close(hours);
  if (closed.closed.length !== hours.length) throw new Error(`seed-history: ${hours.length - closed.closed.length} hours not stored: ${JSON.stringify(closed.notes)}`);
  emulator.clock.advance(Date.now() - emulator.clock.now());
  log(`seed-history: ${hours.length} hours stored (${closed.taskrouterCalls} TaskRouter calls, ${closed.syncWrites} Sync writes)`);
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
