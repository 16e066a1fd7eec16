#!/usr/bin/env node
// `npm run simulate`: a synthetic contact-center day, played against a running `npm start` (the
// emulator on :3001, the functions on :3000), so the wallboard has numbers that move, SLAs that
// breach at the peaks and recover after. Every change goes through the emulator's TaskRouter state
// and is delivered to the real queue-stats function as TaskRouter's event callback.
//
//   npm run simulate -- [--minutes 10] [--emulator http://127.0.0.1:3001] [--functions http://localhost:3000] [--seed 7] [--history-days 7] [--agent-days 0] [--helpdesk-agents 6] [--concurrency 4]
//
// First, `--history-days` (default 7, 0 to skip) past days of the same contact center are played
// on the emulator's clock (POST /emulator/history/seed: whole days in seconds, no callbacks) and
// stored as queue history by the real /queue-history backfill, so the history view has a week of
// charts (docs/queue-history.md). Days already seeded (SEED_HISTORY=1 npm start, an earlier run)
// are not seeded again, and queues and agents are found by name: nothing is doubled.
//
// Then the live day, compressed into `--minutes` of real time (07:00 to 21:00, the peaks given
// more of it): four queues with their agents, arrivals with a morning and an afternoon peak,
// callers who give up after 45–150 s of waiting, short breaks and a lunch break. The contact
// center is one model (emulator/contact-center-model.js) for the past days and the live one: the
// same handle times (~70 s with wrap-up), patience and staffing, so the history's measured handle
// time is the live day's and staffing asks for about the agents the queues have. Its agents are the
// emulator's one agent model (emulator/agent-activity.js): a task is offered to an agent of its
// queue the moment one is free (waits are queueing, on the simulation's clock, never the time the
// event callbacks take), who accepts it (a few reject it or let it time out: the next free agent
// gets it), talks, wraps up with a disposition and completes it, so the live agents view shows
// them on their tasks, the agent history records their day, and the queue statistics count the
// same calls. Each change is sent to the emulator, which makes it at once and queues its event
// for the functions, delivered at most `--concurrency` at a time (a bounded load on the local
// runtime, however slow it answers).
//
// Agent history for the past: the agents' events of the last `--agent-days` (default 0) of the
// seeded days go through the same event callback: about 16,000 events a day for the four queues,
// at about 6 events/s on this loaded 2-core machine (45 minutes a day), so by default the past
// week reaching it is a quieter Helpdesk queue's six agents (about 1,200 events a day;
// `--helpdesk-agents` sets how many, 0 for none) and the four queues' agents from the live day on; `SEED_HISTORY=1 npm start` records the last day in process.
const { plan, compressedDay, profileOf } = require('../emulator/contact-center-model');
const { agentName } = require('../emulator/history-traffic');
const { TEAMS } = require('../emulator/agent-activity');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const EMULATOR = opt('emulator', `http://127.0.0.1:${process.env.EMULATOR_PORT || 3001}`).replace(/\/+$/, '');
const FUNCTIONS = opt('functions', `http://localhost:${process.env.PORT || 3000}`).replace(/\/+$/, '');
const MINUTES = Number(opt('minutes', 10));
const HISTORY_DAYS = Number(opt('history-days', 7));
const AGENT_DAYS = Math.min(HISTORY_DAYS, Number(opt('agent-days', 0)));
const HELPDESK_AGENTS = Math.max(0, Math.floor(Number(opt('helpdesk-agents', 6))) || 0);
const CONCURRENCY = Number(opt('concurrency', 4));
const SEED = Number(opt('seed', Date.now() % 100000)) >>> 0;
const TICK_MS = 100;

const QUEUES = ['Sales', 'Support', 'Billing', 'Spanish'].map((name) => ({ name, agents: profileOf(name).agents }));

async function control(method, path, body) {
  const res = await fetch(`${EMULATOR}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Asks /queue-history for the seeded days until every hour is stored (each answer backfills a slice). */
async function storeHistory(past, token) {
  const query = new URLSearchParams({ from: past.from, to: past.to, by: 'date' });
  // Each request closes the newest missing hours its time budget allows (a few seconds' worth).
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const res = await fetch(`${FUNCTIONS}/queue-history?${query}`, { headers: { Authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => ({}));
    // A request that ran out of its time budget (a loaded machine) stored what it could: ask again.
    if (res.status === 504) continue;
    if (!res.ok) throw new Error(`GET /queue-history: HTTP ${res.status} ${JSON.stringify(body)}`);
    if (!body.missing.length) {
      console.log(`History: ${past.tasks} past tasks, ${body.closedHours} hours stored (${HISTORY_DAYS} days).`);
      return;
    }
    console.log(`History: ${body.closedHours - body.missing.length} of ${body.closedHours} hours stored…`);
  }
  throw new Error('GET /queue-history: history still incomplete after 200 requests');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  try {
    await control('GET', '/emulator/event-callback'); // (a small answer: /emulator/requests lists every request)
  } catch (err) {
    throw new Error(`No emulator at ${EMULATOR} (${err.message}). Start \`npm start\` first (without credentials in .env).`, { cause: err });
  }
  // Past days first, before any event callback is registered: they are history, not live events.
  // The agents' events of the last AGENT_DAYS of them are kept by the emulator for agent history.
  const past = HISTORY_DAYS > 0 ? await control('POST', '/emulator/history/seed', { days: HISTORY_DAYS, queues: QUEUES.map((q) => q.name), agentDays: AGENT_DAYS }) : { queues: [] };
  await control('POST', '/emulator/event-callback', { url: `${FUNCTIONS}/realtimestats-updateQueueStatistics`, concurrency: CONCURRENCY });
  // Those agents' days (shifts, calls, wrap-up dispositions, breaks) through the real event callback: agent history.
  if (AGENT_DAYS > 0 && past.agentEvents) {
    const t0 = Date.now();
    const sent = await control('POST', '/emulator/agents/days', { days: AGENT_DAYS, concurrency: CONCURRENCY * 2 });
    console.log(`Agent history: ${sent.delivered} past agent events recorded (${AGENT_DAYS} days, ${Math.round((Date.now() - t0) / 1000)} s${sent.failed ? `, ${sent.failed} failed` : ''}).`);
  } else if (HISTORY_DAYS > 0 && HELPDESK_AGENTS > 0) {
    // A week of agent history that a new user sees at once: a quieter Helpdesk queue's agents.
    const t0 = Date.now();
    const sent = await control('POST', '/emulator/agents/days', { days: HISTORY_DAYS, agents: HELPDESK_AGENTS, helpdesk: true, concurrency: CONCURRENCY * 2 });
    console.log(
      `Agent history: ${sent.delivered} past Helpdesk agent events recorded (${HISTORY_DAYS} days, ${Math.round((Date.now() - t0) / 1000)} s${sent.failed ? `, ${sent.failed} failed` : ''}).`,
    );
  }
  const sim = new Map();
  for (const q of QUEUES) {
    // A queue (and an agent) of the same name is reused by the emulator and announced again.
    const { sid } = await control('POST', '/emulator/taskqueues', { friendlyName: q.name });
    const workers = Array.from({ length: q.agents }, (_, k) => ({ friendlyName: agentName(q.name, k), team: TEAMS[k % TEAMS.length], activity: 'Offline' }));
    const made = await control('POST', '/emulator/agents', { queues: [sid], workers });
    sim.set(q.name, { ...q, sid, agents: made.workers.map((w) => w.sid), waiting: 0, answered: 0, abandoned: 0, inSla: 0 });
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
  // The whole day is planned at once (it needs nothing from the functions); calls still going on
  // at the end are finished at once (below).
  const actions = plan({ queues: QUEUES, from: started, to: end, hourAt: compressedDay(started, end - started), seed: SEED }).filter((a) => a.at < end);
  const open = new Map(); // task -> {queue, step, agent, entered}
  const send = async (a) => {
    const q = sim.get(a.queue);
    const agent = a.agent === undefined ? null : q.agents[a.agent];
    try {
      if (a.type === 'activity') return await control('POST', `/emulator/agents/${agent}/activity`, { activity: a.activity, async: true });
      if (a.type === 'reservation') await control('POST', `/emulator/agents/${agent}/tasks/${a.task}/${a.step}`, { queueSid: q.sid, attributes: a.attributes, async: true });
      else await control('POST', `/emulator/taskqueues/${q.sid}/tasks/${a.task}/${a.step}`, { channel: a.channel, async: true });
    } catch (err) {
      console.error(`simulate: ${err.message}`);
      return null;
    }
    const t = open.get(a.task) || { queue: a.queue };
    if (a.step === 'entered') (Object.assign(t, { entered: a.at }), (q.waiting += 1));
    if (a.step === 'accepted') ((q.waiting -= 1), (q.answered += 1), (q.inSla += a.at - t.entered <= 30000 ? 1 : 0));
    if (a.step === 'canceled') ((q.waiting -= 1), (q.abandoned += 1));
    Object.assign(t, { step: a.step, agent: a.agent });
    // Rejected or timed out: the task waits again, for another agent.
    if (a.step === 'rejected' || a.step === 'timeout') t.step = 'entered';
    if (a.step === 'completed' || a.step === 'canceled') open.delete(a.task);
    else open.set(a.task, t);
    return null;
  };
  const report = (label) =>
    console.log(
      `[${label}] ` +
        [...sim.values()]
          .map((q) => `${q.name}: ${q.waiting} waiting, ${q.answered} answered (${q.answered ? Math.round((100 * q.inSla) / q.answered) : '–'} % within 30 s), ${q.abandoned} abandoned`)
          .join(' | '),
    );
  let next = 0;
  let lastReport = started;
  while (next < actions.length) {
    const now = Date.now();
    // Changes are made when they happen on the simulation's clock, one after the other; the
    // emulator answers at once (the event callbacks are its business).
    while (next < actions.length && actions[next].at <= now) await send(actions[next++]);
    if (now - lastReport >= 30000) {
      lastReport = now;
      const cb = await control('GET', '/emulator/event-callback').catch(() => ({}));
      report(`${((now - started) / 60000).toFixed(1)} min, ${cb.queued + cb.inFlight} events queued`);
    }
    await sleep(Math.max(0, Math.min(TICK_MS, (actions[next] ? actions[next].at : end) - Date.now())));
  }
  // The day is over: callers still waiting hang up, offers end with them, calls in progress end.
  for (const [task, t] of open) {
    const tail =
      t.step === 'entered'
        ? [['step', 'canceled']]
        : t.step === 'created'
          ? [['reservation', 'canceled']]
          : t.step === 'wrapup'
            ? [['reservation', 'completed']]
            : [
                ['reservation', 'wrapup'],
                ['reservation', 'completed'],
              ];
    for (const [type, step] of tail) await send({ queue: t.queue, type, agent: t.agent, task, step, at: Date.now() });
  }
  // Every event delivered before the run ends.
  for (let cb = await control('GET', '/emulator/event-callback'); cb.queued + cb.inFlight > 0; cb = await control('GET', '/emulator/event-callback')) await sleep(200);
  const cb = await control('GET', '/emulator/event-callback');
  report('end');
  console.log(
    `The simulated day is over: ${[...sim.values()].map((q) => `${q.name} ${q.answered} answered / ${q.abandoned} abandoned`).join(', ')}; ${cb.delivered} events delivered, ${cb.failed} failed.`,
  );
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
