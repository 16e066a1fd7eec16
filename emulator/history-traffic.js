// Synthetic past traffic for queue history (a dev/test tool): days of the simulated contact
// center (emulator/contact-center-model.js: the same queues, agents, arrivals, handle times and
// patience as the live `npm run simulate`) stepped straight into the emulator's TaskRouter state on
// its clock, in time order, so a week takes seconds. No event callbacks are sent.
//
//   const { stepHistory } = require('./history-traffic');
//   stepHistory(emu.ctx, { days: 7, queues: ['Sales', 'Support'], seed: 42 })   // -> {queues: [{sid, friendlyName}], tasks, from, to}
//   POST /emulator/history/seed {days, queues}                                   // the same, for a running emulator
//
// Traffic: the model's day (UTC hours): quiet nights with one agent on the line, a morning peak
// at 10:30 and an afternoon one at 14:30 that the agents cannot keep up with (the queue builds,
// the service level breaches, then recovers), a break at noon, half the team at weekends. Tasks
// are answered when an agent is free (waits are queueing), callers abandon after 45–150 s.
//
// Seeding is idempotent per queue: queues named like existing ones are reused, their agents too
// (`<queue>-<n>`, the names the live simulation uses), and hours already seeded for a queue are
// not seeded again — `SEED_HISTORY=1 npm start` then `npm run simulate` never doubles a queue or
// its traffic.
const trs = require('./taskrouter-stats');
const { plan } = require('./contact-center-model');

const HOUR = 3600000;

/** The model's agent `k` of a queue as a worker of the workspace (found by name, else created). */
function agentOf(ctx, q, k) {
  const name = `${q.friendlyName.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${k + 1}`;
  const workers = ctx.state.taskrouter.workspace.workers;
  const found = [...workers.values()].find((w) => w.friendlyName === name);
  const sid = found ? found.sid : ctx.lib.newSid('WK');
  if (!q.workerSids.has(sid)) trs.addWorker(ctx, q.sid, sid, { activity: found ? found.activityName : 'Offline', friendlyName: name });
  return sid;
}

function stepHistory(ctx, { days = 7, queues = ['Sales', 'Support', 'Billing'], seed = 42, now = Date.now() } = {}) {
  const { clock } = ctx;
  const at = (ms) => clock.advance(ms - clock.now());
  const end = Math.floor(now / HOUR) * HOUR;
  // From midnight (UTC) `days` days back, so "last 7 days" is covered from its first hour.
  const start = Math.floor((end - days * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR;
  const seeded = (ctx.state.taskqueues.historySeeded = ctx.state.taskqueues.historySeeded || new Map()); // queue SID -> {from, to} seeded
  const existing = [...ctx.state.taskqueues.queues.values()];
  const made = queues.map((name) => existing.find((q) => q.friendlyName === name) || trs.createQueue(ctx, { friendlyName: name }));
  let tasks = 0;
  /** Plays the model for queue `q` (the i-th) over [from, to). */
  const play = (q, i, from, to) => {
    at(from);
    const actions = plan({ queues: [{ name: q.friendlyName }], from, to, seed: (seed * 7919 + i * 104729 + Math.floor(from / HOUR)) >>> 0 });
    const agents = new Map();
    for (const a of actions) {
      // The last calls of the range finish after its end: never later than now.
      at(Math.min(a.at, now));
      if (a.type === 'activity') {
        if (!agents.has(a.agent)) agents.set(a.agent, agentOf(ctx, q, a.agent));
        trs.setActivity(ctx, agents.get(a.agent), a.activity);
      } else {
        trs.taskStep(ctx, q.sid, a.task, a.step, { channel: a.channel });
        if (a.step === 'entered') tasks += 1;
      }
    }
  };
  made.forEach((q, i) => {
    const done = seeded.get(q.sid);
    // Only the hours not seeded yet: before and after what an earlier call seeded.
    if (!done) play(q, i, start, end);
    else {
      if (start < done.from) play(q, i, start, done.from);
      if (done.to < end) play(q, i, done.to, end);
    }
    seeded.set(q.sid, { from: Math.min(start, done ? done.from : start), to: Math.max(end, done ? done.to : end) });
  });
  at(now);
  return { queues: made.map((q) => ({ sid: q.sid, friendlyName: q.friendlyName })), tasks, from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

module.exports = { stepHistory, agentOf };
