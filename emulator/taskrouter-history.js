// TaskRouter's history endpoints, derived from the same task steps and worker activities as the
// queue statistics (taskrouter-stats.js), so every figure is consistent with the events:
//   GET /v1/Workspaces/{WS}/Events                         (StartDate, EndDate, Minutes, EventType,
//                                                           TaskQueueSid, TaskSid, WorkerSid, PageSize, PageToken)
//   GET /v1/Workspaces/{WS}/Workers/CumulativeStatistics   (StartDate, EndDate, Minutes, TaskChannel; like
//                                                           Twilio's definition, no TaskQueueSid: 400)
//   POST /emulator/history/seed {days, queues?, seed?, agentDays?}  control: past traffic (history-traffic.js)
//
// Events: one per task step of every queue's log (entered → task-queue.entered, reserved →
// reservation.created, accepted → reservation.accepted, completed → task.completed …) and one
// `worker.activity.update` per activity change, newest first as TaskRouter lists them.
// Worker statistics: `activity_durations` = seconds the workspace's workers spent in each
// activity inside the window; before a worker's first recorded activity it counts as Offline.
// Per queue, history reads `Workers?TaskQueueSid=` (taskrouter.js) and these events instead.

const STEP_EVENTS = {
  entered: 'task-queue.entered',
  reserved: 'reservation.created',
  rejected: 'reservation.rejected',
  timeout: 'reservation.timeout',
  rescinded: 'reservation.rescinded',
  accepted: 'reservation.accepted',
  wrapup: 'reservation.wrapup',
  completed: 'task.completed',
  canceled: 'task.canceled',
  moved: 'task-queue.moved',
  deleted: 'task.deleted',
};
const ACTIVITIES = ['Offline', 'Available', 'Unavailable', 'Break'];

function windowOf(lib, query, now) {
  const parse = (name) => {
    const ms = Date.parse(String(query[name]));
    if (Number.isNaN(ms)) throw lib.errors.invalidParam(name, `${query[name]} is not an ISO 8601 date-time`);
    return ms;
  };
  const end = query.EndDate !== undefined ? parse('EndDate') : now;
  if (query.StartDate !== undefined) return { start: parse('StartDate'), end };
  const minutes = query.Minutes === undefined ? 15 : Number(query.Minutes);
  if (!Number.isInteger(minutes) || minutes < 0) throw lib.errors.invalidParam('Minutes', 'must be a whole number of minutes');
  return { start: end - minutes * 60000, end };
}

/** Every event of the workspace, oldest first (built from the queue logs and activity changes). */
function allEvents(ctx) {
  // Rebuilt only when a step or an activity change was added since the last call.
  const area = ctx.state.taskqueues;
  let size = (area.activityLog || []).length;
  for (const q of area.queues.values()) size += q.log.length + 1;
  if (area.eventsMemo && area.eventsMemo.size === size) return area.eventsMemo.events;
  const { lib } = ctx;
  const events = [];
  for (const q of ctx.state.taskqueues.queues.values()) {
    q.log.forEach((e, i) => {
      const type = STEP_EVENTS[e.step];
      if (!type || !e.task) return;
      events.push({
        at: e.at,
        type,
        sid: lib.fixedSid('EV', `${q.sid}:${i}`),
        resourceSid: e.task,
        data: { task_sid: e.task, task_queue_sid: q.sid, task_queue_name: q.friendlyName, task_channel_unique_name: e.channel, task_age: Math.floor(e.waitS) },
      });
    });
  }
  (ctx.state.taskqueues.activityLog || []).forEach((a, i) => {
    events.push({
      at: a.at,
      type: 'worker.activity.update',
      sid: lib.fixedSid('EV', `activity:${i}`),
      resourceSid: a.worker,
      data: { worker_sid: a.worker, worker_activity_name: a.activity, worker_previous_activity_name: a.previous },
    });
  });
  events.sort((a, b) => a.at - b.at);
  area.eventsMemo = { size, events };
  return events;
}

/** Index of the first of `events` (oldest first) whose instant is past `ms` (or at it, unless `after`): a binary search. */
function indexFrom(events, ms, after) {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].at < ms || (after && events[mid].at === ms)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The events of `events` (oldest first) inside [start, end]: a slice found by binary search, not a scan of every event. */
const eventsBetween = (events, start, end) => events.slice(indexFrom(events, start, false), indexFrom(events, end, true));

/** Each worker's activity changes, oldest first: an index of the activity log, rebuilt only when the log grew. */
function changesByWorker(ctx) {
  const area = ctx.state.taskqueues;
  const log = area.activityLog || [];
  if (area.changesMemo && area.changesMemo.log === log && area.changesMemo.size === log.length) return area.changesMemo.byWorker;
  const byWorker = new Map();
  for (const a of log) {
    if (!byWorker.has(a.worker)) byWorker.set(a.worker, []);
    byWorker.get(a.worker).push(a);
  }
  for (const changes of byWorker.values()) changes.sort((a, b) => a.at - b.at);
  area.changesMemo = { log, size: log.length, byWorker };
  return byWorker;
}

/** Seconds per activity that `workerSids` spent inside [start, end). */
function activityDurations(ctx, workerSids, start, end) {
  const byWorker = changesByWorker(ctx);
  const totals = new Map(ACTIVITIES.map((a) => [a, { total: 0, n: 0, min: Infinity, max: 0 }]));
  for (const worker of workerSids) {
    const changes = byWorker.get(worker) || [];
    let activity = 'Offline';
    let since = -Infinity;
    const close = (until) => {
      const seconds = Math.max(0, (Math.min(until, end) - Math.max(since, start)) / 1000);
      if (seconds <= 0) return;
      if (!totals.has(activity)) totals.set(activity, { total: 0, n: 0, min: Infinity, max: 0 });
      const t = totals.get(activity);
      t.total += seconds;
      t.n += 1;
      t.min = Math.min(t.min, seconds);
      t.max = Math.max(t.max, seconds);
    };
    for (const c of changes) {
      close(c.at);
      activity = c.activity;
      since = c.at;
    }
    close(end);
  }
  return [...totals.entries()].map(([name, t]) => ({
    friendly_name: name,
    sid: ctx.lib.fixedSid('WA', `activity:${name}`),
    avg: t.n ? Math.round(t.total / t.n) : 0,
    min: t.n ? Math.round(t.min) : 0,
    max: Math.round(t.max),
    total: Math.round(t.total),
  }));
}

module.exports = {
  name: 'taskrouter-history',
  STEP_EVENTS,
  activityDurations,

  init() {
    return {};
  },

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const host = 'https://taskrouter.twilio.com/v1';
    const opts = { product: 'taskrouter' };
    const workspace = (req) => {
      const ws = ctx.state.taskrouter.workspace;
      if (req.params.workspace !== ws.sid) throw lib.errors.notFound(req.path);
      return ws;
    };

    // Registered before taskrouter.js's /Workers/:worker, which would read the name as a SID.
    router.get(
      '/v1/Workspaces/:workspace/Workers/CumulativeStatistics',
      (req) => {
        const ws = workspace(req);
        const { start, end } = windowOf(lib, req.query, clock.now());
        // Twilio's definition of this operation declares no TaskQueueSid (twilio-oai taskrouter
        // v1); a client that sends one must not get an answer it would not get from Twilio.
        if (req.query.TaskQueueSid !== undefined) throw lib.errors.invalidParam('TaskQueueSid', 'is not a parameter of Workers/CumulativeStatistics');
        const workers = [...ws.workers.keys()];
        return {
          body: {
            account_sid: ctx.accountSid,
            workspace_sid: ws.sid,
            start_time: lib.isoDate(start),
            end_time: lib.isoDate(end),
            activity_durations: activityDurations(ctx, workers, start, end),
            reservations_created: 0,
            reservations_accepted: 0,
            reservations_rejected: 0,
            reservations_timed_out: 0,
            reservations_canceled: 0,
            reservations_rescinded: 0,
            url: `${host}/Workspaces/${ws.sid}/Workers/CumulativeStatistics`,
          },
        };
      },
      opts,
    );

    // Control: days of synthetic past traffic (emulator/history-traffic.js) for queue and agent history.
    router.post(
      '/emulator/history/seed',
      (req) => {
        const days = req.body.days === undefined ? 7 : Number(req.body.days);
        if (!Number.isInteger(days) || days < 1 || days > 30) throw lib.errors.invalidParam('days', 'a whole number of days from 1 to 30');
        const queues = req.body.queues === undefined ? undefined : [].concat(req.body.queues).map(String);
        // The agents' events of the last `agentDays` days are kept for POST /emulator/agents/days (agent-activity.js).
        const agentDays = Number(req.body.agentDays) || 0;
        const since = ctx.clock.now() - agentDays * 86400000;
        const past = ctx.state.agentActivity.past;
        const onAgentEvent = agentDays > 0 ? (params) => params.EventType !== 'reservation.created' && past.push(params) : undefined;
        const stepped = require('./history-traffic').stepHistory(ctx, { days, queues, seed: Number(req.body.seed) || 42, onAgentEvent, agentSince: since });
        return { status: 201, body: { ...stepped, agentEvents: past.length } };
      },
      { control: true },
    );

    router.get(
      '/v1/Workspaces/:workspace/Events',
      (req) => {
        const ws = workspace(req);
        const q = req.query;
        const { start, end } = windowOf(lib, q, clock.now());
        const types = q.EventType
          ? String(q.EventType)
              .split(',')
              .map((s) => s.trim())
          : null;
        const events = eventsBetween(allEvents(ctx), start, end)
          .filter((e) => !types || types.includes(e.type))
          .filter((e) => !q.TaskQueueSid || e.data.task_queue_sid === q.TaskQueueSid)
          .filter((e) => !q.TaskSid || e.data.task_sid === q.TaskSid)
          .filter((e) => !q.WorkerSid || e.data.worker_sid === q.WorkerSid)
          .reverse();
        const pageSize = Math.min(Math.max(parseInt(q.PageSize, 10) || 50, 1), 1000);
        const offset = Math.max(parseInt(q.PageToken, 10) || 0, 0);
        const base = `${host}/Workspaces/${ws.sid}/Events`;
        const keep = Object.entries(q).filter(([k]) => !['PageSize', 'PageToken', 'Page'].includes(k));
        const url = (o) => `${base}?${new URLSearchParams([...keep, ['PageSize', String(pageSize)], ['PageToken', String(o)]])}`;
        const slice = events.slice(offset, offset + pageSize).map((e) => ({
          account_sid: ctx.accountSid,
          actor_sid: e.resourceSid,
          actor_type: e.type.startsWith('worker') ? 'worker' : 'task',
          actor_url: null,
          description: `${e.type} ${e.resourceSid}`,
          event_data: e.data,
          event_date: lib.isoDate(e.at),
          event_date_ms: e.at,
          event_type: e.type,
          resource_sid: e.resourceSid,
          resource_type: e.type.split('.')[0] === 'worker' ? 'worker' : e.type.startsWith('reservation') ? 'reservation' : 'task',
          resource_url: null,
          sid: e.sid,
          source: 'twilio',
          source_ip_address: null,
          url: `${base}/${e.sid}`,
          workspace_sid: ws.sid,
        }));
        return {
          body: {
            events: slice,
            meta: {
              page: Math.floor(offset / pageSize),
              page_size: pageSize,
              first_page_url: url(0),
              previous_page_url: offset > 0 ? url(Math.max(0, offset - pageSize)) : null,
              url: url(offset),
              next_page_url: offset + pageSize < events.length ? url(offset + pageSize) : null,
              key: 'events',
            },
          },
        };
      },
      opts,
    );
  },

  snapshot(state, ctx) {
    return { events: allEvents(ctx).length };
  },
};
