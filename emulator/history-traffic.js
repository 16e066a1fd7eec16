// Synthetic past traffic for queue and agent history (a dev/test tool): days of the simulated
// contact center (emulator/contact-center-model.js: the same queues, agents, arrivals, handle times,
// patience, breaks and dispositions as the live `npm run simulate`) stepped straight into the
// emulator's TaskRouter state on its clock, in time order, so a week takes seconds. The agents
// move through the emulator's one agent model (agent-activity.js: the same workers the live view
// shows, with their ground truth); its events are handed to `onAgentEvent` (agent history) and
// never delivered here.
//
//   const { stepHistory } = require('./history-traffic');
//   stepHistory(emu.ctx, { days: 7, queues: ['Sales', 'Support'], seed: 42 })   // -> {queues: [{sid, friendlyName}], agents, tasks, from, to}
//   stepHistory(emu.ctx, { …, onAgentEvent(params), agentSince })             // the agents' events from agentSince (ms) on
//   POST /emulator/history/seed {days, queues, agentDays?}                      // the same, for a running emulator; the agent
//                                                                               // events of the last `agentDays` days are kept for POST /emulator/agents/days
//
// Traffic: the model's day (UTC hours): quiet nights with one agent on the line, a morning peak
// at 10:30 and an afternoon one at 14:30 that the agents cannot keep up with (the queue builds,
// the service level breaches, then recovers), short breaks and a lunch break, half the team at
// weekends. Tasks are offered when an agent is free (waits are queueing), a few rejected or timed
// out, callers abandon after 45–150 s.
//
// Seeding is idempotent per queue: queues named like existing ones are reused, their agents too
// (`<queue>-<n>`, the names the live simulation uses), and hours already seeded for a queue are
// not seeded again — `SEED_HISTORY=1 npm start` then `npm run simulate` never doubles a queue or
// its traffic.
const trs = require('./taskrouter-stats');
const { plan } = require('./contact-center-model');
const agents = require('./agent-activity');

const HOUR = 3600000;

/** The model's name of agent `k` of a queue. */
const agentName = (queue, k) => `${queue.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${k + 1}`;

/** The model's agent `k` of a queue as an agent of the workspace (found by name, else created). */
function agentOf(ctx, q, k) {
  const { workers } = agents.ensureAgents(ctx, {
    queues: [q.sid],
    workers: [{ friendlyName: agentName(q.friendlyName, k), team: agents.TEAMS[k % agents.TEAMS.length], activity: existingActivity(ctx, agentName(q.friendlyName, k)) }],
  });
  return workers[0].sid;
}
const existingActivity = (ctx, name) => {
  const found = [...ctx.state.taskrouter.workspace.workers.values()].find((w) => w.friendlyName === name);
  return found ? found.activityName : 'Offline';
};

function stepHistory(ctx, { days = 7, queues = ['Sales', 'Support', 'Billing'], seed = 42, now = Date.now(), onAgentEvent, agentSince = -Infinity } = {}) {
  const { clock } = ctx;
  const at = (ms) => clock.advance(ms - clock.now());
  const end = Math.floor(now / HOUR) * HOUR;
  // From midnight (UTC) `days` days back, so "last 7 days" is covered from its first hour.
  const start = Math.floor((end - days * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR;
  const seeded = (ctx.state.taskqueues.historySeeded = ctx.state.taskqueues.historySeeded || new Map()); // queue SID -> {from, to} seeded
  const existing = [...ctx.state.taskqueues.queues.values()];
  const specs = queues.map((x) => (typeof x === 'string' ? { name: x } : x));
  const made = specs.map(({ name }) => existing.find((q) => q.friendlyName === name) || trs.createQueue(ctx, { friendlyName: name }));
  const people = new Map(); // worker SID -> {sid, friendlyName, team}
  let tasks = 0;
  /** Plays the model for queue `q` (the i-th) over [from, to). */
  const play = (q, i, from, to) => {
    at(from);
    const actions = plan({ queues: [{ name: q.friendlyName, agents: specs[i].agents, size: specs[i].size }], from, to, seed: (seed * 7919 + i * 104729 + Math.floor(from / HOUR)) >>> 0 });
    const sids = new Map();
    const sidOf = (k) => {
      if (!sids.has(k)) sids.set(k, agentOf(ctx, q, k));
      return sids.get(k);
    };
    for (const a of actions) {
      // The last calls of the range finish after its end: never later than now.
      at(Math.min(a.at, now));
      // The agent's event is built only when asked for (from `agentSince` on).
      const quiet = !onAgentEvent || ctx.clock.now() < agentSince;
      let params = null;
      if (a.type === 'activity') params = agents.moveTo(ctx, sidOf(a.agent), a.activity, { quiet });
      else if (a.type === 'reservation') params = agents.reserve(ctx, sidOf(a.agent), null, a.step, { task: a.task, queueSid: q.sid, attributes: a.attributes, quiet });
      else {
        trs.taskStep(ctx, q.sid, a.task, a.step, { channel: a.channel });
        if (a.step === 'entered') tasks += 1;
      }
      if (params && !quiet) onAgentEvent(params);
    }
    for (const sid of sids.values()) {
      const w = ctx.state.taskrouter.workspace.workers.get(sid);
      people.set(sid, { sid, friendlyName: w.friendlyName, team: JSON.parse(w.attributes).team_name });
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
  return { queues: made.map((q) => ({ sid: q.sid, friendlyName: q.friendlyName })), agents: [...people.values()], tasks, from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

module.exports = { stepHistory, agentOf, agentName };
