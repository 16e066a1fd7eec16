#!/usr/bin/env node
// A week of synthetic contact-center traffic in the emulator, then that week's queue history
// stored in Sync through the product's own backfill, so the history view shows real charts offline.
//
//   const { seedHistory } = require('./seed-history');
//   await seedHistory(emulator, { days: 7, queues: ['Sales', 'Support', 'Billing'] });
//   SEED_HISTORY=1 npm start          // scripts/start.js calls it once the emulator is up
//
// The emulator's clock is moved back and forward through the week (a simulated clock: a week of
// task steps takes seconds), then restored. Traffic: a weekday profile peaking late morning and
// mid-afternoon, quieter weekends; waits, abandons and handle times drawn from a fixed-seed PRNG,
// so every run is the same. Agents log in for shifts and take breaks.
const path = require('path');
const twilio = require('twilio');
const trs = require('../emulator/taskrouter-stats');
const { createHistory } = require('../functions/common/history.private.js');

const HOUR = 3600000;
const root = path.resolve(__dirname, '..');

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tasks per hour at a given UTC hour and weekday (the emulator's zone-free figures). */
function arrivals(localHour, weekday, size) {
  const open = localHour >= 8 && localHour < 20;
  const peak = localHour === 10 || localHour === 11 || localHour === 14 || localHour === 15;
  const base = open ? (peak ? 14 : 8) : 1;
  return base * size * (weekday === 0 || weekday === 6 ? 0.4 : 1);
}

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

/**
 * Steps a week of tasks into the emulator ending at the last whole hour, then backfills and stores
 * every closed hour of it. `env` is the functions' QUEUE_STATS_* / QUEUE_HISTORY_* settings.
 */
async function seedHistory(emulator, { days = 7, queues = ['Sales', 'Support', 'Billing'], env = {}, now = Date.now(), seed = 42, log = () => {} } = {}) {
  const { ctx } = emulator;
  const random = rng(seed);
  const at = (ms) => emulator.clock.advance(ms - emulator.clock.now());
  const end = Math.floor(now / HOUR) * HOUR;
  // From midnight (UTC) `days` days back, so "last 7 days" is covered from its first hour.
  const start = Math.floor((end - days * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR;
  const made = queues.map((name, i) => ({ q: trs.createQueue(ctx, { friendlyName: name }), size: 1 + (queues.length - i) / queues.length }));
  let tasks = 0;
  let n = 0;
  for (let hour = start; hour < end; hour += HOUR) {
    const d = new Date(hour);
    for (const { q, size } of made) {
      // Agents: a shift from 08:00 to 20:00 UTC, a break at 12:00.
      const workers = [0, 1, 2].map((w) => `WK${q.sid.slice(2, 10)}${w}`);
      workers.forEach((w, k) => {
        at(hour + k * 60000);
        const h = d.getUTCHours();
        const activity = h >= 8 && h < 20 && !(d.getUTCDay() % 6 === 0 && k > 0) ? (h === 12 && k === 1 ? 'Break' : 'Available') : 'Offline';
        if (!q.workerSids.has(w)) trs.addWorker(ctx, q.sid, w, { activity });
        else trs.setActivity(ctx, w, activity);
      });
      const count = Math.round(arrivals(d.getUTCHours(), d.getUTCDay(), size) * (0.6 + 0.8 * random()));
      for (let k = 0; k < count; k++) {
        const task = `WT${(++n).toString(16).padStart(32, '0')}`;
        const entered = hour + Math.floor(random() * HOUR);
        const channel = random() < 0.7 ? 'voice' : 'chat';
        const wait = Math.floor(random() * random() * 180000);
        at(entered);
        trs.taskStep(ctx, q.sid, task, 'entered', { channel });
        if (random() < 0.12) {
          at(entered + Math.min(wait, 90000));
          trs.taskStep(ctx, q.sid, task, 'canceled');
        } else {
          at(entered + wait);
          trs.taskStep(ctx, q.sid, task, 'reserved');
          trs.taskStep(ctx, q.sid, task, 'accepted');
          at(entered + wait + 60000 + Math.floor(random() * 480000));
          trs.taskStep(ctx, q.sid, task, 'wrapup');
          at(emulator.clock.now() + 30000);
          trs.taskStep(ctx, q.sid, task, 'completed');
        }
        tasks += 1;
      }
    }
  }
  at(now);
  log(`seed-history: ${tasks} tasks in ${queues.length} queues over ${days} days`);
  const wasm = require(path.join(root, 'functions', 'wasm', 'history.private.js'));
  const fEnv = emulator.functionEnv();
  // Write pacing waits on the simulated clock too; it is set back to the real time at the end.
  const sleep = async (ms) => void emulator.clock.advance(ms);
  const history = createHistory({ h: new wasm.History(env), client: clientFor(emulator), workspaceSid: fEnv.WORKSPACE_SID, syncServiceSid: fEnv.SYNC_SERVICE_SID, now: () => emulator.clock.now(), sleep });
  const listed = await history.listQueues();
  const hours = [];
  for (let hour = start; hour < end; hour += HOUR) hours.push(new Date(hour).toISOString().replace('.000Z', 'Z'));
  for (const hour of hours) await history.closeHour(hour, listed);
  at(Date.now());
  log(`seed-history: ${hours.length} hours stored (${history.counts.taskrouterCalls} TaskRouter calls, ${history.counts.syncWrites} Sync writes)`);
  return { tasks, hours: hours.length, queues: made.map(({ q }) => ({ sid: q.sid, friendlyName: q.friendlyName })) };
}

module.exports = { seedHistory, clientFor };

if (require.main === module) {
  // Alone: seeds a fresh in-process emulator and prints what a week of history looks like.
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
