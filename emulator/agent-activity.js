// The emulator's one model of agents (docs/emulator.md, "Agents"): workers in queues with a team,
// moving through TaskRouter activities and reservations. Each change is made in TaskRouter's state
// (the worker's activity, the task's step in its queue: taskrouter-stats.js, so the queue
// statistics follow), kept as ground truth (milliseconds in each activity per agent and UTC hour,
// reservation steps, handle and wrap-up time, dispositions) and delivered, signed, to the
// workspace's Event Callback URL with TaskRouter's fields (events.js). The live agents view
// (docs/agents-live.md), the agent history (docs/agent-history.md) and the queue statistics all
// read this one model; the simulated contact center (contact-center-model.js) drives it, for the
// past days (history-traffic.js) and the live day of `npm run simulate`.
//
//   GET  /v1/Workspaces/{WS}/Activities                 (FriendlyName, Available, PageSize): Offline,
//                                                       Available, Unavailable, Break
//   POST /emulator/agents                               {queues: [WQ…], workers: [{sid?, friendlyName, team?, activity?}], announce?}
//        workers eligible in those queues (one per friendly name: an existing one is reused), the
//        team in the `team_name` attribute; `worker.created` for each unless announce is false
//   POST /emulator/agents/{WK}/activity                 {activity, async?} (worker.activity.update)
//   POST /emulator/agents/{WK}/tasks/{WT}/{step}        {queueSid, channel?, attributes?, async?}
//   POST /emulator/agents/{WK}/reservations/{WR}/{step} {task?, queueSid?, channel?, attributes?, async?}
//        step: created, accepted, rejected, timeout, canceled, rescinded, wrapup, completed
//        (reservation.<step>); with a queue, the task enters it first when it is not there
//   GET  /emulator/agents/{WK}/truth?from=&to=           ground truth per UTC hour (ISO instants)
//   POST /emulator/agents/days                          {days, concurrency?, helpdesk?}: the simulated
//        contact center's past days of agents (kept by POST /emulator/history/seed {agentDays}, else
//        played now; `helpdesk: true` plays a quiet Helpdesk queue's days even when the queues'
//        history was seeded) delivered to the event callback (npm run simulate)
//
//   const aa = require('../emulator/agent-activity');
//   await aa.setActivity(emu.ctx, 'WK…', 'Available');           // at emu.clock's instant
//   await aa.reservationStep(emu.ctx, 'WK…', 'WR…', 'completed', { attributes: { conversations: { outcome: 'Sold' } } });
//   aa.truth(emu.ctx, 'WK…', fromMs, toMs)  // {[hour ISO]: {activityMs: {Available: …}, accepted, …, dispositions}}
//
// `worker.activity.update` carries WorkerActivitySid/Name, WorkerPreviousActivitySid (the documented
// field; no previous name) and WorkerTimeInPreviousActivity (s) / WorkerTimeInPreviousActivityMs.
// Every event of an agent carries WorkerSid, WorkerName, WorkerAttributes, WorkerActivitySid/Name;
// reservation events also ReservationSid, TaskSid, TaskAttributes, TaskChannelUniqueName and, when
// the task is in a queue, TaskQueueSid/Name, TaskAge, TaskAssignmentStatus. A disposition is the
// task attribute set at wrap-up (conversations.outcome here, the default
// AGENT_HISTORY_DISPOSITION_ATTRIBUTE), so it travels on reservation.wrapup and .completed.
// "On a task" and "wrap-up" are the reservation's states while the activity stays Available (Flex's
// default activities), as in a Flex contact center.
const trs = require('./taskrouter-stats');
const { ensureWorker } = require('./taskrouter');
const events = require('./events');

const ACTIVITIES = ['Offline', 'Available', 'Unavailable', 'Break'];
const AVAILABLE = new Set(['Available']);
// A reservation step and the step of its task in the queue (taskrouter-stats.js).
const STEPS = { created: 'reserved', accepted: 'accepted', rejected: 'rejected', timeout: 'timeout', canceled: 'canceled', rescinded: 'rescinded', wrapup: 'wrapup', completed: 'completed' };
const TASK_STATUS = { created: 'reserved', accepted: 'assigned', rejected: 'pending', timeout: 'pending', rescinded: 'pending', canceled: 'canceled', wrapup: 'wrapping', completed: 'completed' };
const HOUR = 3600000;
const KEPT = 20000; // the latest events kept in `delivered` (tests replay them)
const TEAMS = ['Blue', 'Green'];
// playDays' own queue, "Helpdesk": the model's agents and handle times with fewer calls (about one
// every 8 minutes per agent in the day, as a back office), so days of it are a few thousand events.
const HELPDESK_SIZE = 0.15;

const area = (ctx) => ctx.state.agentActivity;
// Fixed SIDs (a hash each) are remembered: a week of the simulated contact center takes ~150,000 steps.
const memo = new Map();
const fixed = (ctx, prefix, key) => {
  const k = `${prefix}${key}`;
  if (!memo.has(k)) memo.set(k, ctx.lib.fixedSid(prefix, key));
  return memo.get(k);
};
const activitySid = (ctx, name) => fixed(ctx, 'WA', `activity:${name}`);
const workerOf = (ctx, sid) => ctx.state.taskrouter.workspace.workers.get(sid);

function agentOf(ctx, workerSid, friendlyName) {
  const a = area(ctx);
  let agent = a.agents.get(workerSid);
  if (!agent) {
    const w = ensureWorker(ctx, workerSid, friendlyName);
    if (friendlyName) w.friendlyName = friendlyName;
    agent = { sid: workerSid, since: ctx.clock.now(), spans: [], reservations: new Map(), byTask: new Map(), steps: [] };
    a.agents.set(workerSid, agent);
  }
  return agent;
}

const workerFields = (ctx, w) => ({
  WorkerSid: w.sid,
  WorkerName: w.friendlyName,
  WorkerAttributes: w.attributes,
  WorkerActivitySid: activitySid(ctx, w.activityName),
  WorkerActivityName: w.activityName,
});

/** Keeps `params` (the latest KEPT), delivers it unless `deliver` is false: {params, delivery}. */
async function emit(ctx, params, { later = false, deliver = true } = {}) {
  if (!params) return { params: null, delivery: null };
  const kept = area(ctx).delivered;
  kept.push(params);
  if (kept.length > KEPT) kept.splice(0, kept.length - KEPT);
  return { params, delivery: deliver ? await events.deliverEvent(ctx, params, { later }) : null };
}

/**
 * Moves the agent to `activity` at the clock's instant: TaskRouter's state and the ground truth.
 * Answers the `worker.activity.update` event's params (not delivered), or null when the agent is
 * already in it (unless `force`: the control endpoints announce a change to the same activity,
 * as a worker update does).
 */
function moveTo(ctx, workerSid, activity, { friendlyName, force = false, quiet = false } = {}) {
  const agent = agentOf(ctx, workerSid, friendlyName);
  const w = workerOf(ctx, workerSid);
  const now = ctx.clock.now();
  if (w.activityName === activity && !force) return null;
  const previous = w.activityName;
  const inPrevious = Math.max(0, now - agent.since);
  if (now > agent.since) agent.spans.push({ activity: previous, from: agent.since, to: now });
  agent.since = Math.max(agent.since, now);
  trs.setActivity(ctx, workerSid, activity);
  if (quiet) return true; // the change without its event (past days nobody asked events of)
  return events.eventParams(ctx, 'worker.activity.update', {
    ResourceType: 'Worker',
    ResourceSid: workerSid,
    ...workerFields(ctx, w),
    WorkerPreviousActivitySid: activitySid(ctx, previous),
    WorkerTimeInPreviousActivity: String(Math.floor(inPrevious / 1000)),
    WorkerTimeInPreviousActivityMs: String(inPrevious),
  });
}

/** Moves the agent to `activity` (see moveTo) and delivers the event. */
async function setActivity(ctx, workerSid, activity, { friendlyName, force, later, deliver } = {}) {
  return emit(ctx, moveTo(ctx, workerSid, activity, { friendlyName, force }), { later, deliver });
}

/**
 * A step of one of the agent's reservations at the clock's instant (TaskRouter's state, ground
 * truth); answers the `reservation.<step>` event's params, not delivered. The reservation is
 * `reservationSid`, or the agent's reservation of `task`. With `queueSid`, the task's step in that
 * queue (it enters first when it is not there) and the queue's fields in the event.
 */
function reserve(ctx, workerSid, reservationSid, step, { task, queueSid, channel, attributes, quiet = false } = {}) {
  if (!STEPS[step]) throw new Error(`agent-activity: unknown step ${step}; expected ${Object.keys(STEPS).join(', ')}`);
  const { lib } = ctx;
  const agent = agentOf(ctx, workerSid);
  const now = ctx.clock.now();
  // The agent's reservation of `task` (its SID fixed by task and agent), or the one named.
  const rsid = reservationSid || (task && agent.byTask.get(task)) || lib.fixedSid('WR', `${task}:${workerSid}`);
  let r = agent.reservations.get(rsid);
  if (!r) {
    r = { sid: rsid, task: task || lib.fixedSid('WT', `task:${rsid}`), attributes: {}, channel: channel || 'voice', createdAt: now, enteredAt: now, priority: 0 };
    agent.reservations.set(rsid, r);
    agent.byTask.set(r.task, rsid);
  }
  let q = null;
  if (queueSid) {
    q = ctx.state.taskqueues.queues.get(queueSid);
    if (!q) throw new Error(`agent-activity: ${queueSid} is not a queue`);
    r.queue = q.sid;
    let t = q.tasks.get(r.task);
    if (!t && !['completed', 'canceled'].includes(step)) t = trs.taskStep(ctx, q.sid, r.task, 'entered', { channel: r.channel });
    if (t) {
      Object.assign(r, { channel: t.channel, createdAt: t.createdAt, enteredAt: t.enteredAt, priority: t.priority });
      trs.taskStep(ctx, q.sid, r.task, STEPS[step], { channel: t.channel });
    }
  }
  if (attributes) r.attributes = { ...r.attributes, ...attributes };
  r[step] = now;
  agent.steps.push({ at: now, step, reservation: rsid, disposition: step === 'completed' ? outcome(r.attributes) : null });
  if (quiet) return true;
  return events.eventParams(ctx, `reservation.${step}`, {
    ResourceType: 'Reservation',
    ResourceSid: rsid,
    ReservationSid: rsid,
    ...workerFields(ctx, workerOf(ctx, workerSid)),
    TaskSid: r.task,
    TaskAttributes: JSON.stringify(r.attributes),
    TaskAge: String(Math.floor(Math.max(0, now - r.createdAt) / 1000)),
    TaskPriority: String(r.priority || 0),
    TaskAssignmentStatus: TASK_STATUS[step],
    TaskChannelSid: fixed(ctx, 'TC', `channel:${r.channel}`),
    TaskChannelUniqueName: r.channel,
    ...(q ? { TaskQueueSid: q.sid, TaskQueueName: q.friendlyName, TaskQueueEnteredDate: new Date(r.enteredAt).toISOString() } : {}),
  });
}

/** A step of one of the agent's reservations (see reserve), delivered. */
async function reservationStep(ctx, workerSid, reservationSid, step, { task, queueSid, channel, attributes, later, deliver } = {}) {
  return emit(ctx, reserve(ctx, workerSid, reservationSid, step, { task, queueSid, channel, attributes }), { later, deliver });
}

/**
 * Workers in `queues` (one per friendly name: an existing worker of that name or SID is reused),
 * with a team (`team_name`) and an activity. A new agent starts in it (no event); an existing one
 * moves to it (worker.activity.update, returned in `changes`). Answers {workers, changes}.
 */
function ensureAgents(ctx, { queues = [], workers = [] }) {
  const all = ctx.state.taskrouter.workspace.workers;
  const qs = [].concat(queues).map((sid) => {
    const q = ctx.state.taskqueues.queues.get(String(sid));
    if (!q) throw new Error(`${sid} is not a queue`);
    return q;
  });
  const out = [];
  const changes = [];
  for (const spec of [].concat(workers)) {
    const name = spec.friendlyName ? String(spec.friendlyName) : undefined;
    const found = (spec.sid && all.get(spec.sid)) || (name && [...all.values()].find((w) => w.friendlyName === name));
    const sid = found ? found.sid : spec.sid || ctx.lib.newSid('WK');
    const fresh = !area(ctx).agents.has(sid);
    const activity = String(spec.activity || 'Available');
    const w = ensureWorker(ctx, sid, name);
    if (name) w.friendlyName = name;
    if (spec.team) w.attributes = JSON.stringify({ ...JSON.parse(w.attributes || '{}'), team_name: String(spec.team) });
    for (const q of qs) q.workerSids.add(sid);
    if (fresh) {
      if (w.activityName !== activity) trs.setActivity(ctx, sid, activity);
      agentOf(ctx, sid, name);
    } else {
      const params = moveTo(ctx, sid, activity);
      if (params) changes.push(params);
    }
    out.push(w);
  }
  return { workers: out, changes };
}

/** ensureAgents, then the events: the activity changes, and `worker.created` for each unless `announce` is false. */
async function addAgents(ctx, { queues, workers, announce = true, later = false }) {
  const made = ensureAgents(ctx, { queues, workers });
  for (const params of made.changes) await emit(ctx, params, { later });
  const deliveries = [];
  if (announce) {
    for (const w of made.workers) {
      const { delivery } = await emit(ctx, events.eventParams(ctx, 'worker.created', { ResourceType: 'Worker', ResourceSid: w.sid, ...workerFields(ctx, w) }), { later });
      deliveries.push(delivery);
    }
  }
  return { workers: made.workers, deliveries };
}

function outcome(attributes) {
  const o = attributes && attributes.conversations && attributes.conversations.outcome;
  return typeof o === 'string' && o.trim() ? o.trim() : null;
}

/**
 * Ground truth of one agent from `fromMs` to `toMs` (the open activity up to min(now, toMs)), per
 * UTC hour: activityMs, observedMs, accepted, rejected, timedOut, canceled, completed, handleMs
 * (accepted → completed), handled, wrapupMs (wrap-up → completed), wrapped, dispositions.
 */
function truth(ctx, workerSid, fromMs, toMs) {
  const agent = area(ctx).agents.get(workerSid);
  const out = {};
  if (!agent) return out;
  const hour = (ms) => {
    const start = Math.floor(ms / HOUR) * HOUR;
    const key = new Date(start).toISOString().replace('.000Z', 'Z');
    if (!out[key]) out[key] = { activityMs: {}, observedMs: 0, accepted: 0, rejected: 0, timedOut: 0, canceled: 0, completed: 0, handleMs: 0, handled: 0, wrapupMs: 0, wrapped: 0, dispositions: {} };
    return out[key];
  };
  const spans = [...agent.spans, { activity: workerOf(ctx, workerSid).activityName, from: agent.since, to: Math.min(ctx.clock.now(), toMs) }];
  for (const s of spans) {
    let t = Math.max(s.from, fromMs);
    const end = Math.min(s.to, toMs);
    while (t < end) {
      const cut = Math.min(end, Math.floor(t / HOUR) * HOUR + HOUR);
      const h = hour(t);
      h.activityMs[s.activity] = (h.activityMs[s.activity] || 0) + (cut - t);
      h.observedMs += cut - t;
      t = cut;
    }
  }
  const counted = { accepted: 'accepted', rejected: 'rejected', timeout: 'timedOut', canceled: 'canceled' };
  for (const s of agent.steps) {
    if (s.at < fromMs || s.at >= toMs) continue;
    const h = hour(s.at);
    if (counted[s.step]) h[counted[s.step]] += 1;
    if (s.step === 'completed') {
      const r = agent.reservations.get(s.reservation);
      h.completed += 1;
      if (r.accepted !== undefined) ((h.handleMs += s.at - r.accepted), (h.handled += 1));
      if (r.wrapup !== undefined) ((h.wrapupMs += s.at - r.wrapup), (h.wrapped += 1));
      if (s.disposition) h.dispositions[s.disposition] = (h.dispositions[s.disposition] || 0) + 1;
    }
  }
  return out;
}

/**
 * `days` of the simulated contact center (contact-center-model.js, played by history-traffic.js on
 * the emulator's clock) before today (UTC): its queues' agents through this model, each change's event in
 * time order to `onEvent(params)` (not delivered). `queues` (names or {name, agents, size}) default
 * to one queue, "Helpdesk", of `agents` agents with fewer calls (HELPDESK_SIZE). Answers {agents: [{sid, friendlyName, team}], events, tasks}.
 * Days already played for a queue are not played again (they have no events left to give).
 */
async function playDays(ctx, { days = 7, agents = 8, queues, seed = 7, now = ctx.clock.now(), onEvent } = {}) {
  const { stepHistory } = require('./history-traffic');
  const list = [];
  // Whole days before today (UTC). Past offers (reservation.created) are left out: neither the
  // agent history nor a past day's live view keeps them.
  const today = Math.floor(now / 86400000) * 86400000;
  let stepped;
  try {
    stepped = stepHistory(ctx, {
      days,
      queues: queues || [{ name: 'Helpdesk', agents, size: HELPDESK_SIZE }],
      seed,
      now: today,
      onAgentEvent: (params) => params.EventType !== 'reservation.created' && list.push(params),
    });
  } finally {
    ctx.clock.resume(); // it ends at today's midnight: back to the real time
  }
  if (onEvent) await replay(ctx, list, onEvent);
  return { agents: stepped.agents, events: list.length, tasks: stepped.tasks };
}

/**
 * Hands past events to `onEvent` in time order, the emulator's clock held at each one's instant
 * (Sync's write budget is counted on it), then back to the real time.
 */
async function replay(ctx, list, onEvent) {
  const sorted = list.slice().sort((a, b) => Number(a.EventDateMs) - Number(b.EventDateMs));
  try {
    for (const params of sorted) {
      ctx.clock.hold(Number(params.EventDateMs));
      await onEvent(params);
    }
  } finally {
    ctx.clock.resume();
  }
  return sorted.length;
}

/** The delivered, signed, `params` to the callback URL, `concurrency` at a time: {delivered, failed}. */
async function deliverAll(ctx, list, concurrency = 8) {
  const url = ctx.state.contactCenter.callbackUrl;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (url && next < list.length) {
      const r = await ctx.deliver(url, list[next++]);
      if (r.status !== 200) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(32, concurrency)) }, worker));
  return { delivered: url ? list.length : 0, failed };
}

module.exports = {
  name: 'agentActivity',
  ACTIVITIES,
  TEAMS,
  moveTo,
  reserve,
  setActivity,
  reservationStep,
  ensureAgents,
  addAgents,
  truth,
  playDays,
  replay,

  // past: events of past days kept by history-traffic.js for POST /emulator/agents/days.
  init: () => ({ agents: new Map(), delivered: [], past: [] }),

  routes(router, ctx) {
    const { lib } = ctx;
    const opts = { product: 'taskrouter' };
    const control = { control: true };
    const later = (req) => req.body.async === true || req.body.async === 'true';
    const known = (sid) => {
      if (!workerOf(ctx, sid)) throw lib.errors.notFound(`/emulator/agents/${sid}`);
      return sid;
    };
    router.get(
      '/v1/Workspaces/:workspace/Activities',
      (req) => {
        const ws = ctx.state.taskrouter.workspace;
        if (req.params.workspace !== ws.sid) throw lib.errors.notFound(req.path);
        let list = ACTIVITIES.map((name) => ({
          sid: activitySid(ctx, name),
          account_sid: ctx.accountSid,
          workspace_sid: ws.sid,
          friendly_name: name,
          available: AVAILABLE.has(name),
          date_created: lib.isoDate(0),
          date_updated: lib.isoDate(0),
          url: `https://taskrouter.twilio.com/v1/Workspaces/${ws.sid}/Activities/${activitySid(ctx, name)}`,
          links: {},
        }));
        if (req.query.FriendlyName !== undefined) list = list.filter((a) => a.friendly_name === req.query.FriendlyName);
        if (req.query.Available !== undefined) list = list.filter((a) => String(a.available) === String(req.query.Available));
        return { body: lib.page(list, { key: 'activities', baseUrl: `https://taskrouter.twilio.com/v1/Workspaces/${ws.sid}/Activities`, query: req.query }) };
      },
      opts,
    );
    router.post(
      '/emulator/agents',
      async (req) => {
        let made;
        try {
          made = await addAgents(ctx, { queues: [].concat(req.body.queues || []), workers: [].concat(req.body.workers || []), announce: req.body.announce !== false, later: later(req) });
        } catch (err) {
          throw lib.errors.invalidParam('queues', err.message);
        }
        return { status: 201, body: { workers: made.workers.map((w) => ({ sid: w.sid, friendlyName: w.friendlyName, activity: w.activityName })), deliveries: made.deliveries } };
      },
      control,
    );
    router.post(
      '/emulator/agents/:worker/activity',
      async (req) => {
        const sid = known(req.params.worker);
        const activity = String(req.body.activity || 'Available');
        const { delivery } = await setActivity(ctx, sid, activity, { force: true, later: later(req) });
        return { body: { sid, activity, delivery } };
      },
      control,
    );
    const step = async (req, reservation, task) => {
      const sid = known(req.params.worker);
      const attributes = typeof req.body.attributes === 'string' ? JSON.parse(req.body.attributes) : req.body.attributes;
      let r;
      try {
        r = await reservationStep(ctx, sid, reservation, req.params.step, { task, queueSid: req.body.queueSid, channel: req.body.channel, attributes, later: later(req) });
      } catch (err) {
        throw lib.errors.invalidParam('step', err.message);
      }
      return { body: { worker: sid, task: r.params.TaskSid, reservation: r.params.ReservationSid, step: req.params.step, params: r.params, delivery: r.delivery } };
    };
    router.post(
      '/emulator/agents/:worker/tasks/:task/:step',
      (req) => {
        if (!req.body.queueSid) throw lib.errors.invalidParam('queueSid', 'the queue of the task');
        return step(req, null, req.params.task);
      },
      control,
    );
    router.post('/emulator/agents/:worker/reservations/:reservation/:step', (req) => step(req, req.params.reservation, req.body.task), control);
    router.get('/emulator/agents/:worker/truth', (req) => ({ body: truth(ctx, req.params.worker, Date.parse(req.query.from) || 0, Date.parse(req.query.to) || ctx.clock.now()) }), control);
    router.post(
      '/emulator/agents/days',
      async (req) => {
        // The past events kept when the days were seeded (POST /emulator/history/seed {agentDays});
        // else the days played now. Delivered `concurrency` at a time (default 8): the agent
        // history's records do not depend on the order of events.
        const days = Number(req.body.days) || 7;
        const from = ctx.clock.now() - days * 86400000;
        let list = area(ctx).past.filter((p) => Number(p.EventDateMs) >= from);
        area(ctx).past = [];
        let played = null;
        if (!list.length && (req.body.helpdesk === true || !(ctx.state.taskqueues.historySeeded && ctx.state.taskqueues.historySeeded.size))) {
          const before = new Set(ctx.state.taskqueues.queues.keys());
          played = await playDays(ctx, { days, queues: req.body.queues, agents: Number(req.body.agents) || 8, onEvent: (p) => list.push(p) });
          // The helpdesk's agents are played beside queues seeded already (npm run simulate): their
          // queue existed only to play their days, so it leaves no queue on the board.
          if (req.body.helpdesk === true) {
            for (const sid of ctx.state.taskqueues.queues.keys()) if (!before.has(sid)) trs.deleteQueue(ctx, sid);
          }
        }
        // Past offers are kept by nobody, and the queues' past days are counted from TaskRouter's
        // statistics (queue history): without the queue fields, a past event does not make the
        // queue statistics re-read its queue now.
        list = list.filter((p) => p.EventType !== 'reservation.created').map(({ TaskQueueSid: _q, TaskQueueName: _n, TaskQueueEnteredDate: _e, ...p }) => p);
        const sent = await deliverAll(ctx, list, Number(req.body.concurrency) || 8);
        return { body: { agents: played ? played.agents : undefined, events: list.length, ...sent } };
      },
      control,
    );
  },

  snapshot: (state) => ({ agents: state.agents.size, delivered: state.delivered.length, past: state.past.length }),
};
