// Agents moving through TaskRouter activities and reservations, each change delivered, signed, to
// the workspace's Event Callback URL (contact-center.js) with TaskRouter's fields, and the ground
// truth kept beside it: milliseconds in each activity per agent and UTC hour, reservation steps,
// handle and wrap-up time, dispositions. The agent history's tests compare the product against it.
//
//   GET  /v1/Workspaces/{WS}/Activities                   (FriendlyName, Available, PageSize): Offline,
//                                                         Available, Unavailable, Break
//   POST /emulator/agents/{WK}/activity                   {activity, friendlyName?} (worker.activity.update)
//   POST /emulator/agents/{WK}/reservations/{WR}/{step}   {task?, attributes?}: accepted, rejected,
//                                                         timeout, canceled, wrapup, completed (reservation.<step>)
//   GET  /emulator/agents/{WK}/truth?from=&to=             ground truth per UTC hour (ISO instants)
//   POST /emulator/agents/days                            {days, agents, seed}: `days` of agents' days
//                                                         before now, delivered in time order (npm run simulate)
//
//   const aa = require('../emulator/agent-activity');
//   await aa.setActivity(emu.ctx, 'WK…', 'Available');           // at emu.clock's instant
//   await aa.reservationStep(emu.ctx, 'WK…', 'WR…', 'completed', { attributes: { conversations: { outcome: 'Sold' } } });
//   aa.truth(emu.ctx, 'WK…', fromMs, toMs)  // {[hour ISO]: {activityMs: {Available: …}, accepted, …, dispositions}}
//
// `worker.activity.update` carries WorkerActivitySid/Name, WorkerPreviousActivitySid (the documented
// field; no previous name) and WorkerTimeInPreviousActivity (s) / WorkerTimeInPreviousActivityMs.
// Reservation events carry WorkerSid, WorkerName, ReservationSid, TaskSid and TaskAttributes; a
// disposition is the task attribute set at wrap-up (conversations.outcome here, the default
// AGENT_HISTORY_DISPOSITION_ATTRIBUTE), so it travels on reservation.wrapup and .completed.
// "On a task" and "wrap-up" are the reservation's states while the activity stays Available (Flex's
// default activities), as in a Flex contact center.
const trs = require('./taskrouter-stats');
const { ensureWorker } = require('./taskrouter');

const ACTIVITIES = ['Offline', 'Available', 'Unavailable', 'Break'];
const AVAILABLE = new Set(['Available']);
const STEPS = { accepted: 'reservation.accepted', rejected: 'reservation.rejected', timeout: 'reservation.timeout', canceled: 'reservation.canceled', wrapup: 'reservation.wrapup', completed: 'reservation.completed' };
const HOUR = 3600000;

const area = (ctx) => ctx.state.agentActivity;
const activitySid = (ctx, name) => ctx.lib.fixedSid('WA', `activity:${name}`);

function agentOf(ctx, workerSid, friendlyName) {
  const a = area(ctx);
  let agent = a.agents.get(workerSid);
  if (!agent) {
    const w = ensureWorker(ctx, workerSid, friendlyName);
    if (friendlyName) w.friendlyName = friendlyName;
    agent = { sid: workerSid, activity: w.activityName, since: ctx.clock.now(), spans: [], reservations: new Map(), steps: [] };
    a.agents.set(workerSid, agent);
  }
  return agent;
}

async function deliver(ctx, eventType, fields) {
  const url = ctx.state.contactCenter && ctx.state.contactCenter.callbackUrl;
  const now = ctx.clock.now();
  const params = {
    EventType: eventType,
    AccountSid: ctx.accountSid,
    WorkspaceSid: ctx.state.taskrouter.workspace.sid,
    WorkspaceName: ctx.state.taskrouter.workspace.friendlyName,
    Sid: ctx.lib.newSid('EV'),
    Timestamp: String(Math.floor(now / 1000)),
    EventDate: new Date(now).toISOString(),
    EventDateMs: String(now),
    EventDescription: eventType,
    ...fields,
  };
  area(ctx).delivered.push(params);
  if (!url) return { params, delivery: null };
  const record = await ctx.deliver(url, params);
  let body = record.body;
  try {
    body = JSON.parse(record.body);
  } catch {
    /* as text */
  }
  return { params, delivery: { status: record.status, error: record.error, body } };
}

/** Moves the agent to `activity` at the clock's instant (no event when it is already there). */
async function setActivity(ctx, workerSid, activity, { friendlyName } = {}) {
  const agent = agentOf(ctx, workerSid, friendlyName);
  const now = ctx.clock.now();
  if (agent.activity === activity) return { params: null, delivery: null };
  const previous = agent.activity;
  const inPrevious = now - agent.since;
  agent.spans.push({ activity: previous, from: agent.since, to: now });
  agent.activity = activity;
  agent.since = now;
  trs.setActivity(ctx, workerSid, activity);
  const w = ctx.state.taskrouter.workspace.workers.get(workerSid);
  return deliver(ctx, 'worker.activity.update', {
    ResourceType: 'Worker',
    ResourceSid: workerSid,
    WorkerSid: workerSid,
    WorkerName: w.friendlyName,
    WorkerActivitySid: activitySid(ctx, activity),
    WorkerActivityName: activity,
    WorkerPreviousActivitySid: activitySid(ctx, previous),
    WorkerTimeInPreviousActivity: String(Math.floor(inPrevious / 1000)),
    WorkerTimeInPreviousActivityMs: String(inPrevious),
    WorkerAttributes: w.attributes,
  });
}

/** A step of one of the agent's reservations at the clock's instant. */
async function reservationStep(ctx, workerSid, reservationSid, step, { task, attributes } = {}) {
  if (!STEPS[step]) throw new Error(`agent-activity: unknown step ${step}; expected ${Object.keys(STEPS).join(', ')}`);
  const agent = agentOf(ctx, workerSid);
  const now = ctx.clock.now();
  let r = agent.reservations.get(reservationSid);
  if (!r) {
    r = { sid: reservationSid, task: task || ctx.lib.fixedSid('WT', `task:${reservationSid}`), attributes: {} };
    agent.reservations.set(reservationSid, r);
  }
  if (attributes) r.attributes = { ...r.attributes, ...attributes };
  r[step] = now;
  agent.steps.push({ at: now, step, reservation: reservationSid, disposition: step === 'completed' ? outcome(r.attributes) : null });
  const w = ctx.state.taskrouter.workspace.workers.get(workerSid);
  return deliver(ctx, STEPS[step], {
    ResourceType: 'Reservation',
    ResourceSid: reservationSid,
    ReservationSid: reservationSid,
    WorkerSid: workerSid,
    WorkerName: w.friendlyName,
    WorkerActivityName: agent.activity,
    TaskSid: r.task,
    TaskAttributes: JSON.stringify(r.attributes),
    TaskChannelUniqueName: 'voice',
  });
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
  const spans = [...agent.spans, { activity: agent.activity, from: agent.since, to: Math.min(ctx.clock.now(), toMs) }];
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
      if (r.accepted !== undefined) (h.handleMs += s.at - r.accepted), (h.handled += 1);
      if (r.wrapup !== undefined) (h.wrapupMs += s.at - r.wrapup), (h.wrapped += 1);
      if (s.disposition) h.dispositions[s.disposition] = (h.dispositions[s.disposition] || 0) + 1;
    }
  }
  return out;
}

// A seeded generator, so a run can be repeated.
function generator(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const DISPOSITIONS = ['Resolved', 'Resolved', 'Resolved', 'Sale', 'Callback', 'Escalated', 'No answer'];
const TEAMS = ['Blue', 'Green'];

/**
 * The plan of one agent's day (UTC day `dayMs`): [{at, kind: 'activity'|'step', …}] in time order.
 * A shift of about 8 h from about 08:00 (rostered, with a jitter), two short breaks and a lunch
 * break, calls arriving every few minutes while Available: a few rejected or timed out, the rest
 * talked (about 4 min), wrapped up (30–120 s) with a disposition, completed.
 */
function planDay(random, worker, dayMs, index) {
  const min = 60000;
  const out = [];
  const start = dayMs + (7 + (index % 3)) * HOUR + Math.floor(random() * 20) * min;
  const end = start + 8 * HOUR + Math.floor(random() * 30) * min;
  const breaks = [
    [start + 2 * HOUR, 15 * min, 'Break'],
    [start + 4 * HOUR, 30 * min, 'Break'],
    [start + 6 * HOUR + 30 * min, 10 * min, 'Unavailable'],
  ];
  out.push({ at: start, kind: 'activity', activity: 'Available' });
  let t = start + Math.floor(random() * 5 * min) + min;
  let n = 0;
  for (const [at, length, activity] of breaks) {
    while (t < at) {
      const rsid = `WR${worker.slice(2, 10)}${String(dayMs / 86400000).padStart(8, '0')}${String(n).padStart(16, '0')}`;
      n += 1;
      const roll = random();
      if (roll < 0.06) {
        out.push({ at: t, kind: 'step', reservation: rsid, step: 'rejected' });
        t += min;
      } else if (roll < 0.1) {
        t += 15000;
        out.push({ at: t, kind: 'step', reservation: rsid, step: 'timeout' });
        t += min;
      } else {
        const talk = Math.round((60 + random() * 360) * 1000);
        const wrap = Math.round((30 + random() * 90) * 1000);
        const disposition = DISPOSITIONS[Math.floor(random() * DISPOSITIONS.length)];
        out.push({ at: t, kind: 'step', reservation: rsid, step: 'accepted' });
        out.push({ at: t + talk, kind: 'step', reservation: rsid, step: 'wrapup', attributes: { conversations: { outcome: disposition } } });
        out.push({ at: t + talk + wrap, kind: 'step', reservation: rsid, step: 'completed' });
        t += talk + wrap;
      }
      t += Math.floor(random() * 8 * min) + 10000;
    }
    const from = Math.max(at, t);
    out.push({ at: from, kind: 'activity', activity });
    out.push({ at: from + length, kind: 'activity', activity: 'Available' });
    t = from + length + min;
  }
  out.push({ at: Math.max(end, t), kind: 'activity', activity: 'Offline' });
  return out;
}

/**
 * `days` of agents' days ending before today (UTC), delivered in time order on the emulator's
 * clock (held at each event's instant, then returned to the real time). `onEvent(params)` is
 * called instead of the callback delivery when given (npm run simulate stores them in-process).
 * Answers {agents: [{sid, friendlyName, team}], events}.
 */
async function playDays(ctx, { days = 7, agents = 8, seed = 7, now = ctx.clock.now(), onEvent } = {}) {
  const random = generator(seed);
  const today = Math.floor(now / 86400000) * 86400000;
  const people = Array.from({ length: agents }, (_, i) => ({
    sid: ctx.lib.fixedSid('WK', `agent-history:${i}`),
    friendlyName: `Agent ${String(i + 1).padStart(2, '0')}`,
    team: TEAMS[i % TEAMS.length],
  }));
  const plan = [];
  for (const p of people) {
    const w = ensureWorker(ctx, p.sid, p.friendlyName);
    w.friendlyName = p.friendlyName;
    w.attributes = JSON.stringify({ ...JSON.parse(w.attributes || '{}'), team_name: p.team });
    for (let d = days; d >= 1; d -= 1) {
      for (const e of planDay(random, p.sid, today - d * 86400000, people.indexOf(p))) plan.push({ ...e, worker: p.sid });
    }
  }
  plan.sort((a, b) => a.at - b.at || a.worker.localeCompare(b.worker));
  // Everyone starts Offline a day before the first event: the first change tells how long.
  ctx.clock.hold(today - (days + 1) * 86400000);
  for (const p of people) agentOf(ctx, p.sid, p.friendlyName).since = ctx.clock.now();
  let events = 0;
  const saved = ctx.state.contactCenter.callbackUrl;
  if (onEvent) ctx.state.contactCenter.callbackUrl = null;
  try {
    for (const e of plan) {
      if (e.at >= now) break;
      ctx.clock.hold(e.at);
      const { params } = e.kind === 'activity' ? await setActivity(ctx, e.worker, e.activity) : await reservationStep(ctx, e.worker, e.reservation, e.step, { attributes: e.attributes });
      if (params) {
        events += 1;
        if (onEvent) await onEvent(params);
      }
    }
  } finally {
    ctx.state.contactCenter.callbackUrl = saved;
    ctx.clock.resume();
  }
  return { agents: people, events };
}

module.exports = {
  name: 'agentActivity',
  ACTIVITIES,
  setActivity,
  reservationStep,
  truth,
  playDays,

  init: () => ({ agents: new Map(), delivered: [] }),

  routes(router, ctx) {
    const { lib } = ctx;
    const opts = { product: 'taskrouter' };
    const control = { control: true };
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
    // An agent's activity over HTTP is emulator/agent-floor.js's `POST /emulator/agents/{WK}/activity`
    // (registered first); this model's own changes (setActivity) are made in-process and by playDays.
    router.post(
      '/emulator/agents/:worker/reservations/:reservation/:step',
      async (req) => {
        try {
          return { body: await reservationStep(ctx, req.params.worker, req.params.reservation, req.params.step, { task: req.body.task, attributes: req.body.attributes }) };
        } catch (err) {
          throw lib.errors.invalidParam('step', err.message);
        }
      },
      control,
    );
    router.get('/emulator/agents/:worker/truth', (req) => ({ body: truth(ctx, req.params.worker, Date.parse(req.query.from) || 0, Date.parse(req.query.to) || ctx.clock.now()) }), control);
    router.post(
      '/emulator/agents/days',
      async (req) => {
        // Played first, then delivered `concurrency` at a time (default 8): the agent history's
        // records do not depend on the order of events.
        const events = [];
        const played = await playDays(ctx, { days: Number(req.body.days) || 7, agents: Number(req.body.agents) || 8, seed: Number(req.body.seed) || 7, onEvent: (params) => events.push(params) });
        const url = ctx.state.contactCenter.callbackUrl;
        let failed = 0;
        let next = 0;
        const worker = async () => {
          while (url && next < events.length) {
            const r = await ctx.deliver(url, events[next++]);
            if (r.status !== 200) failed += 1;
          }
        };
        await Promise.all(Array.from({ length: Math.max(1, Math.min(32, Number(req.body.concurrency) || 8)) }, worker));
        return { body: { ...played, delivered: url ? events.length : 0, failed } };
      },
      control,
    );
  },

  snapshot: (state) => ({ agents: state.agents.size, delivered: state.delivered.length }),
};
