#!/usr/bin/env node
// `npm run simulate`: a synthetic contact-center day, played against a running `npm start` (the
// emulator on :3001, the functions on :3000), so the wallboard has numbers that move, SLAs that
// breach at the peaks and recover after. Every change goes through the emulator's TaskRouter state
// and is delivered to the real queue-stats function as TaskRouter's event callback.
//
//   npm run simulate -- [--minutes 10] [--emulator http://127.0.0.1:3001] [--functions http://localhost:3000] [--seed 7] [--history-days 7]
//
// First, `--history-days` (default 7, 0 to skip) of past traffic are stepped into the emulator on a
// simulated clock (POST /emulator/history/seed) and stored as queue history by the real
// /queue-history backfill, so the history view has a week of charts (docs/queue-history.md).
//
// The day is compressed into `--minutes` of real time: four queues with a few agents each,
// arrivals following a morning and an afternoon peak, handle times around 40 s, callers who give up
// after 45–150 s of waiting, agents on a short break now and then.
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const EMULATOR = opt('emulator', `http://127.0.0.1:${process.env.EMULATOR_PORT || 3001}`).replace(/\/+$/, '');
const FUNCTIONS = opt('functions', `http://localhost:${process.env.PORT || 3000}`).replace(/\/+$/, '');
const MINUTES = Number(opt('minutes', 10));
const TICK_MS = 250;
const HISTORY_DAYS = Number(opt('history-days', 7));

// A small seeded generator, so a run can be repeated.
let seed = Number(opt('seed', Date.now() % 100000)) >>> 0;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const exponential = (mean) => -Math.log(1 - random()) * mean;

const QUEUES = [
  { name: 'Sales', agents: 4, perMinute: 4 },
  { name: 'Support', agents: 5, perMinute: 6 },
  { name: 'Billing', agents: 3, perMinute: 3 },
  { name: 'Spanish', agents: 2, perMinute: 1.5 },
];
const HANDLE_MEAN_S = 40;
const CHANNELS = ['voice', 'voice', 'voice', 'chat', 'video'];

async function control(method, path, body) {
  const res = await fetch(`${EMULATOR}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Arrival-rate multiplier over the day (0..1 of the run): a morning and an afternoon peak. */
const dayCurve = (x) => 0.5 + 1.0 * Math.exp(-(((x - 0.3) / 0.08) ** 2)) + 0.8 * Math.exp(-(((x - 0.7) / 0.1) ** 2));

/** Asks /queue-history for the seeded days until every hour is stored (each answer backfills a slice). */
async function storeHistory(past, token) {
  const query = new URLSearchParams({ from: past.from, to: past.to, by: 'date' });
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const res = await fetch(`${FUNCTIONS}/queue-history?${query}`, { headers: { Authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`GET /queue-history: HTTP ${res.status} ${JSON.stringify(body)}`);
    if (!body.missing.length) {
      console.log(`History: ${past.tasks} past tasks, ${body.closedHours} hours stored (${HISTORY_DAYS} days).`);
      return;
    }
    console.log(`History: ${body.closedHours - body.missing.length} of ${body.closedHours} hours stored…`);
  }
  throw new Error('GET /queue-history: history still incomplete after 60 requests');
}

async function main() {
  try {
    await control('GET', '/emulator/requests');
  } catch (err) {
    throw new Error(`No emulator at ${EMULATOR} (${err.message}). Start \`npm start\` first (without credentials in .env).`);
  }
  // Past days first, before any event callback is registered: they are history, not live events.
  const past = HISTORY_DAYS > 0 ? await control('POST', '/emulator/history/seed', { days: HISTORY_DAYS, queues: QUEUES.map((q) => q.name) }) : { queues: [] };
  await control('POST', '/emulator/event-callback', { url: `${FUNCTIONS}/realtimestats-updateQueueStatistics` });
  // The same days of agents (shifts, calls, wrap-up dispositions, breaks) through the real event callback: agent history.
  if (HISTORY_DAYS > 0) console.log(`Agent history: ${(await control('POST', '/emulator/agents/days', { days: HISTORY_DAYS, agents: 6 })).delivered} past agent events recorded.`);
  const sim = [];
  for (const q of QUEUES) {
    // A queue with seeded history is kept (its SID given) and announced like a new one.
    const seeded = past.queues.find((p) => p.friendlyName === q.name);
    const { sid } = await control('POST', '/emulator/taskqueues', { friendlyName: q.name, ...(seeded ? { sid: seeded.sid } : {}) });
    const agents = [];
    for (let i = 0; i < q.agents; i += 1) {
      const w = await control('POST', `/emulator/taskqueues/${sid}/workers`, { friendlyName: `${q.name.toLowerCase()}-${i + 1}`, activity: 'Available' });
      agents.push({ sid: w.sid, freeAt: 0, onBreakUntil: 0 });
    }
    sim.push({ ...q, sid, agents, waiting: [], answered: 0, abandoned: 0 });
  }
  const token = await control('POST', '/emulator/tokens', { identity: 'simulated-supervisor', roles: 'supervisor', ttl: 24 * 3600 });
  if (HISTORY_DAYS > 0) await storeHistory(past, token.token);
  console.log(`Simulating a contact-center day in ${MINUTES} minutes. Open the wallboard:`);
  console.log(`  ${FUNCTIONS}/wallboard/index.html#token=${encodeURIComponent(token.token)}`);
  console.log(`  (a TV with WALLBOARD_KEY set in .env: ${FUNCTIONS}/wallboard/index.html?kiosk=1#key=<the key>)`);
  if (HISTORY_DAYS > 0) console.log(`  history: ${FUNCTIONS}/wallboard/history.html#token=${encodeURIComponent(token.token)}`);
  if (HISTORY_DAYS > 0) console.log(`  agents:  ${FUNCTIONS}/wallboard/agent-history.html#token=${encodeURIComponent(token.token)}`);

  const started = Date.now();
  const end = started + MINUTES * 60000;
  const chains = new Map(); // task -> promise: one task's steps are sent in order
  const send = (q, task, step, body) => {
    const next = (chains.get(task) || Promise.resolve()).then(() => control('POST', `/emulator/taskqueues/${q.sid}/tasks/${task}/${step}`, body)).catch((err) => console.error(`simulate: ${err.message}`));
    chains.set(task, next);
    return next;
  };
  const activity = (agent, name) => control('POST', `/emulator/workers/${agent.sid}/activity`, { activity: name }).catch((err) => console.error(`simulate: ${err.message}`));
  let lastReport = started;

  while (Date.now() < end) {
    const now = Date.now();
    const x = (now - started) / (end - started);
    for (const q of sim) {
      // Arrivals (Poisson per tick).
      if (random() < (q.perMinute * dayCurve(x) * TICK_MS) / 60000) {
        const task = `WT${[...Array(32)].map(() => Math.floor(random() * 16).toString(16)).join('')}`;
        const channel = CHANNELS[Math.floor(random() * CHANNELS.length)];
        q.waiting.push({ task, channel, since: now, patience: 45000 + random() * 105000 });
        send(q, task, 'entered', { channel });
      }
      // Callers who give up.
      for (const t of q.waiting.filter((t) => now - t.since > t.patience)) {
        q.waiting.splice(q.waiting.indexOf(t), 1);
        q.abandoned += 1;
        send(q, t.task, 'canceled');
      }
      // Agents: breaks, wrap-up done, next caller.
      for (const agent of q.agents) {
        if (agent.busyWith && now >= agent.freeAt) {
          const { task } = agent.busyWith;
          agent.busyWith = null;
          send(q, task, 'wrapup').then(() => send(q, task, 'completed'));
          activity(agent, 'Available');
        }
        if (!agent.busyWith && agent.onBreakUntil === 0 && random() < TICK_MS / 240000) {
          agent.onBreakUntil = now + 20000 + random() * 40000;
          activity(agent, 'Break');
        } else if (agent.onBreakUntil && now >= agent.onBreakUntil) {
          agent.onBreakUntil = 0;
          activity(agent, 'Available');
        }
        if (!agent.busyWith && !agent.onBreakUntil && q.waiting.length) {
          const t = q.waiting.shift();
          agent.busyWith = t;
          agent.freeAt = now + exponential(HANDLE_MEAN_S * 1000);
          q.answered += 1;
          send(q, t.task, 'reserved').then(() => send(q, t.task, 'accepted'));
          activity(agent, 'Busy');
        }
      }
    }
    if (now - lastReport >= 30000) {
      lastReport = now;
      const minute = Math.round((now - started) / 60000 * 10) / 10;
      console.log(`[${minute} min] ` + sim.map((q) => `${q.name}: ${q.waiting.length} waiting, ${q.answered} answered, ${q.abandoned} abandoned`).join(' | '));
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await Promise.all(chains.values());
  console.log('The simulated day is over: ' + sim.map((q) => `${q.name} ${q.answered} answered / ${q.abandoned} abandoned`).join(', '));
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
