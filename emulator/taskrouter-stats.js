// TaskRouter TaskQueues and their statistics (taskrouter.twilio.com/v1), for the queue-stats function:
//   GET    /v1/Workspaces/{WS}/TaskQueues                              list (FriendlyName, WorkerSid, PageSize)
//   POST   /v1/Workspaces/{WS}/TaskQueues                              create (FriendlyName, TargetWorkers)
//   GET    /v1/Workspaces/{WS}/TaskQueues/{WQ}                         fetch
//   DELETE /v1/Workspaces/{WS}/TaskQueues/{WQ}
//   GET    /v1/Workspaces/{WS}/TaskQueues/{WQ}/RealTimeStatistics      (TaskChannel)
//   GET    /v1/Workspaces/{WS}/TaskQueues/{WQ}/CumulativeStatistics    (TaskChannel, StartDate, EndDate, Minutes, SplitByWaitTime)
//   GET    /v1/Workspaces/{WS}/TaskQueues/{WQ}/Statistics              both of the above in one answer
//   POST   /v1/Workspaces/{WS}/TaskQueues/RealTimeStatistics           bulk: JSON array of at most 50 WQ SIDs, 5 requests/s
//   GET    /v1/Workspaces/{WS}/TaskQueues/Statistics                   every queue's statistics, a page at a time
//                                                                       (FriendlyName, TaskChannel, StartDate, EndDate, Minutes, PageSize ≤ 1000)
//
// Figures are derived from state that tests set through the exported helpers (queues, the workers
// eligible for each queue and their activity, and task life-cycle steps), so a test can say "two
// tasks wait, one was answered after 40 s" and read back what TaskRouter would report:
//
//   const trs = require('../emulator/taskrouter-stats');
//   const q = trs.createQueue(emu.ctx, { friendlyName: 'Sales' });
//   trs.addWorker(emu.ctx, q.sid, 'WK...', { activity: 'Available' });
//   trs.taskStep(emu.ctx, q.sid, 'WT...', 'entered', { channel: 'voice' });   // then 'reserved', 'accepted', ...
//   trs.setActivity(emu.ctx, 'WK...', 'Offline');
//
// Steps: entered, reserved, rejected, timeout, rescinded, accepted, wrapup, completed, canceled,
// moved, deleted. Cumulative figures count the steps inside the requested window; wait times run
// from the task's creation (TaskRouter's definition), in-queue times from its entry.

const { ensureWorker } = require('./taskrouter');

const CHANNELS = ['default', 'voice', 'chat', 'sms', 'video', 'email'];
const ACTIVITIES = ['Offline', 'Available', 'Unavailable', 'Break'];
const BULK_MAX = 50;
const BULK_PER_SECOND = 5;

function area(ctx) {
  return ctx.state.taskqueues;
}

/** Adds a queue; `sid` may be given for deterministic tests. */
function createQueue(ctx, { friendlyName, sid, targetWorkers = '1==1' } = {}) {
  const now = ctx.clock.now();
  const queue = {
    sid: sid || ctx.lib.newSid('WQ'),
    friendlyName: friendlyName || 'Queue',
    targetWorkers,
    dateCreated: now,
    dateUpdated: now,
    workerSids: new Set(),
    tasks: new Map(),
    log: [],
  };
  area(ctx).queues.set(queue.sid, queue);
  return queue;
}

function deleteQueue(ctx, sid) {
  return area(ctx).queues.delete(sid);
}

function queueOf(ctx, sid) {
  const q = area(ctx).queues.get(sid);
  if (!q) throw new Error(`taskrouter-stats: no queue ${sid}`);
  return q;
}

/** Makes `workerSid` eligible for the queue (creating the worker in the workspace if needed). */
function addWorker(ctx, queueSid, workerSid, { activity = 'Available', friendlyName } = {}) {
  const worker = ensureWorker(ctx, workerSid, friendlyName);
  if (worker.activityName !== activity) logActivity(ctx, workerSid, activity, worker.activityName);
  worker.activityName = activity;
  queueOf(ctx, queueSid).workerSids.add(workerSid);
  return worker;
}

/** Activity changes, for TaskRouter's Events and worker statistics (taskrouter-history.js). */
function logActivity(ctx, workerSid, activity, previous) {
  const a = area(ctx);
  (a.activityLog = a.activityLog || []).push({ at: ctx.clock.now(), worker: workerSid, activity, previous });
}

function setActivity(ctx, workerSid, activity) {
  const worker = ctx.state.taskrouter.workspace.workers.get(workerSid);
  if (!worker) throw new Error(`taskrouter-stats: no worker ${workerSid}`);
  if (worker.activityName !== activity) logActivity(ctx, workerSid, activity, worker.activityName);
  worker.activityName = activity;
  worker.dateUpdated = ctx.clock.now();
}

const STATUS_AFTER = {
  entered: 'pending',
  reserved: 'reserved',
  rejected: 'pending',
  timeout: 'pending',
  rescinded: 'pending',
  accepted: 'assigned',
  wrapup: 'wrapping',
};
const LEAVES = new Set(['completed', 'canceled', 'moved', 'deleted']);

/** One step of a task's life in a queue (see the header). */
function taskStep(ctx, queueSid, taskSid, step, { channel = 'voice', priority = 0, createdAt } = {}) {
  const queue = queueOf(ctx, queueSid);
  const now = ctx.clock.now();
  let task = queue.tasks.get(taskSid);
  if (step === 'entered') {
    task = { sid: taskSid, channel, priority: Number(priority) || 0, status: 'pending', createdAt: createdAt || now, enteredAt: now };
    queue.tasks.set(taskSid, task);
  }
  if (!task) throw new Error(`taskrouter-stats: task ${taskSid} is not in queue ${queueSid}`);
  if (!(step in STATUS_AFTER) && !LEAVES.has(step)) throw new Error(`taskrouter-stats: unknown step ${step}`);
  queue.latestAt = Math.max(queue.latestAt === undefined ? -Infinity : queue.latestAt, now);
  const entry = { at: now, task: taskSid, step, from: step === 'entered' ? null : task.status, channel: task.channel, waitS: (now - task.createdAt) / 1000, inQueueS: (now - task.enteredAt) / 1000 };
  queue.log.push(entry);
  // The same entries in time order (a test may step tasks at earlier clock times, and a running
  // clock can put a step a millisecond before the last one): a window of the statistics is then
  // found by binary search instead of a scan of the whole log. Inserted from the end: the steps
  // come nearly in order, so this costs about one comparison.
  const byTime = (queue.byTime = queue.byTime || []);
  let j = byTime.length;
  byTime.push(entry);
  while (j > 0 && byTime[j - 1].at > now) {
    byTime[j] = byTime[j - 1];
    j -= 1;
  }
  byTime[j] = entry;
  if (LEAVES.has(step)) queue.tasks.delete(taskSid);
  else task.status = STATUS_AFTER[step];
  return task;
}

function channelOf(query, lib) {
  const raw = query.TaskChannel;
  if (raw === undefined || raw === '') return null;
  const name = CHANNELS.find((c) => c === raw || lib.fixedSid('TC', `channel:${c}`) === raw);
  if (!name) throw lib.errors.invalidParam('TaskChannel', `${raw} is not a TaskChannel of this workspace`);
  return name;
}

function eligibleWorkers(ctx, queue, channel) {
  const workers = ctx.state.taskrouter.workspace.workers;
  return [...queue.workerSids].map((sid) => workers.get(sid)).filter((w) => w && (!channel || (w.channels.get(channel) && w.channels.get(channel).capacity > 0)));
}

function realtime(ctx, queue, channel) {
  const { lib, clock } = ctx;
  const now = clock.now();
  const tasks = [...queue.tasks.values()].filter((t) => !channel || t.channel === channel);
  const byStatus = { pending: 0, reserved: 0, assigned: 0, wrapping: 0 };
  const byPriority = {};
  let oldest = null;
  let oldestInQueue = null;
  for (const t of tasks) {
    byStatus[t.status] += 1;
    if (t.status === 'pending' || t.status === 'reserved') {
      byPriority[t.priority] = (byPriority[t.priority] || 0) + 1;
      if (!oldest || t.createdAt < oldest.createdAt) oldest = t;
      if (!oldestInQueue || t.enteredAt < oldestInQueue.enteredAt) oldestInQueue = t;
    }
  }
  const workers = eligibleWorkers(ctx, queue, channel);
  const names = [...new Set([...ACTIVITIES, ...workers.map((w) => w.activityName)])];
  const available = workers.filter((w) => w.activityName === 'Available' && (!channel || w.channels.get(channel).available));
  return {
    activity_statistics: names.map((name) => ({
      friendly_name: name,
      sid: lib.fixedSid('WA', `activity:${name}`),
      workers: workers.filter((w) => w.activityName === name).length,
    })),
    longest_task_waiting_age: oldest ? Math.floor((now - oldest.createdAt) / 1000) : 0,
    longest_task_waiting_sid: oldest ? oldest.sid : null,
    longest_relative_task_age_in_queue: oldestInQueue ? Math.floor((now - oldestInQueue.enteredAt) / 1000) : 0,
    longest_relative_task_sid_in_queue: oldestInQueue ? oldestInQueue.sid : null,
    tasks_by_priority: byPriority,
    tasks_by_status: byStatus,
    total_available_workers: available.length,
    total_eligible_workers: workers.length,
    total_tasks: tasks.length,
  };
}

function parseDate(lib, name, raw) {
  const ms = Date.parse(String(raw));
  if (Number.isNaN(ms)) throw lib.errors.invalidParam(name, `${raw} is not an ISO 8601 date-time`);
  return ms;
}

/** Running totals of one kind of wait (seconds). */
const emptyDurations = () => ({ n: 0, total: 0, min: Infinity, max: 0 });
function addDuration(d, v) {
  d.n += 1;
  d.total += v;
  d.min = Math.min(d.min, v);
  d.max = Math.max(d.max, v);
}
const durationView = (d) => (d.n ? { avg: Math.round(d.total / d.n), min: Math.round(d.min), max: Math.round(d.max), total: Math.round(d.total) } : { avg: 0, min: 0, max: 0, total: 0 });

/** Index of the first entry of a log in time order at or after `ms` (binary search). */
function firstAtOrAfter(log, ms) {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid].at < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Totals of the log entries from index `from` on that match the window and channel. With
 * `inOrder` (a log in time order: queue.byTime) only the entries inside the window are visited.
 */
function accumulate(acc, log, from, { start, end, channel, thresholds }, inOrder = false) {
  const first = inOrder ? Math.max(from, firstAtOrAfter(log, start)) : from;
  for (let i = first; i < log.length; i += 1) {
    const e = log[i];
    if (inOrder && e.at > end) break;
    if (e.at < start || e.at > end || (channel && e.channel !== channel)) continue;
    acc.steps[e.step] = (acc.steps[e.step] || 0) + 1;
    if (e.step === 'accepted') {
      addDuration(acc.accepted, e.waitS);
      addDuration(acc.acceptedInQueue, e.inQueueS);
    }
    if (e.step === 'canceled') {
      addDuration(acc.canceled, e.waitS);
      if (e.from === 'reserved') acc.reservationsCanceled += 1;
    }
    if (e.step === 'accepted' || e.step === 'canceled') {
      const field = e.step === 'accepted' ? 'reservations_accepted' : 'tasks_canceled';
      for (const t of thresholds) acc.split[t][e.waitS > t ? 'above' : 'below'][field] += 1;
    }
  }
  return acc;
}

function newAccumulator(thresholds) {
  const split = {};
  for (const t of thresholds) {
    split[t] = { above: { tasks_canceled: 0, reservations_accepted: 0 }, below: { tasks_canceled: 0, reservations_accepted: 0 } };
  }
  return { steps: {}, accepted: emptyDurations(), acceptedInQueue: emptyDurations(), canceled: emptyDurations(), reservationsCanceled: 0, split, seen: 0 };
}

function cumulative(ctx, queue, channel, query) {
  const { lib, clock } = ctx;
  const now = clock.now();
  const end = query.EndDate !== undefined ? parseDate(lib, 'EndDate', query.EndDate) : now;
  let start;
  if (query.StartDate !== undefined) start = parseDate(lib, 'StartDate', query.StartDate);
  else {
    const minutes = query.Minutes === undefined ? 15 : Number(query.Minutes);
    if (!Number.isInteger(minutes) || minutes < 0) throw lib.errors.invalidParam('Minutes', 'must be a whole number of minutes');
    start = end - minutes * 60000;
  }
  const thresholds =
    query.SplitByWaitTime === undefined || query.SplitByWaitTime === ''
      ? []
      : String(query.SplitByWaitTime)
          .split(',')
          .map((s) => {
            const n = Number(s.trim());
            if (!Number.isInteger(n) || n < 0) throw lib.errors.invalidParam('SplitByWaitTime', `${s} is not a number of seconds`);
            return n;
          });
  // The log is appended in time order, so with a fixed start and an end at or after its last
  // entry the totals only grow: keep them per (start, channel, thresholds) and add new entries.
  const window = { start, end, channel, thresholds };
  // (The latest entry, not the last: a test may step tasks at earlier clock times.)
  const last = queue.latestAt === undefined ? -Infinity : queue.latestAt;
  let acc;
  if (end >= last && query.StartDate !== undefined) {
    const key = `${start}|${channel || ''}|${thresholds.join(',')}`;
    queue.totals = queue.totals || new Map();
    acc = queue.totals.get(key) || newAccumulator(thresholds);
    accumulate(acc, queue.log, acc.seen, window);
    acc.seen = queue.log.length;
    queue.totals.set(key, acc);
  } else {
    acc = accumulate(newAccumulator(thresholds), queue.byTime || [], 0, window, true);
  }
  const count = (step) => acc.steps[step] || 0;
  return {
    account_sid: ctx.accountSid,
    avg_task_acceptance_time: acc.accepted.n ? Math.round(acc.accepted.total / acc.accepted.n) : 0,
    start_time: lib.isoDate(start),
    end_time: lib.isoDate(end),
    reservations_created: count('reserved'),
    reservations_accepted: count('accepted'),
    reservations_rejected: count('rejected'),
    reservations_timed_out: count('timeout'),
    reservations_canceled: acc.reservationsCanceled,
    reservations_rescinded: count('rescinded'),
    split_by_wait_time: thresholds.length ? JSON.parse(JSON.stringify(acc.split)) : null,
    task_queue_sid: queue.sid,
    tasks_canceled: count('canceled'),
    tasks_completed: count('completed'),
    tasks_deleted: count('deleted'),
    tasks_entered: count('entered'),
    tasks_moved: count('moved'),
    wait_duration_until_accepted: durationView(acc.accepted),
    wait_duration_until_canceled: durationView(acc.canceled),
    wait_duration_in_queue_until_accepted: durationView(acc.acceptedInQueue),
    workspace_sid: ctx.state.taskrouter.workspace.sid,
  };
}

module.exports = {
  name: 'taskqueues',
  createQueue,
  deleteQueue,
  addWorker,
  setActivity,
  taskStep,

  init() {
    return { queues: new Map() };
  },

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const { TwilioError, errors } = lib;
    const host = 'https://taskrouter.twilio.com/v1';
    const opts = { product: 'taskrouter' };
    const bulkLimiter = lib.createRateLimiter(clock, BULK_PER_SECOND);

    const workspace = (req) => {
      const ws = ctx.state.taskrouter.workspace;
      if (req.params.workspace !== ws.sid) throw errors.notFound(req.path);
      return ws;
    };
    const findQueue = (req) => {
      workspace(req);
      const q = area(ctx).queues.get(req.params.queue);
      if (!q) throw errors.notFound(req.path);
      return q;
    };
    const base = (ws) => `${host}/Workspaces/${ws.sid}/TaskQueues`;
    const queueView = (ws, q) => ({
      sid: q.sid,
      account_sid: ctx.accountSid,
      workspace_sid: ws.sid,
      friendly_name: q.friendlyName,
      target_workers: q.targetWorkers,
      task_order: 'FIFO',
      max_reserved_workers: 1,
      reservation_activity_sid: null,
      reservation_activity_name: null,
      assignment_activity_sid: null,
      assignment_activity_name: null,
      event_callback_url: null,
      date_created: lib.isoDate(q.dateCreated),
      date_updated: lib.isoDate(q.dateUpdated),
      url: `${base(ws)}/${q.sid}`,
      links: {
        statistics: `${base(ws)}/${q.sid}/Statistics`,
        real_time_statistics: `${base(ws)}/${q.sid}/RealTimeStatistics`,
        cumulative_statistics: `${base(ws)}/${q.sid}/CumulativeStatistics`,
        list_statistics: `${base(ws)}/Statistics`,
        workspace: `${host}/Workspaces/${ws.sid}`,
        assignment_activity: null,
        reservation_activity: null,
      },
    });
    const envelope = (ws, q, suffix) => ({ account_sid: ctx.accountSid, task_queue_sid: q.sid, workspace_sid: ws.sid, url: `${base(ws)}/${q.sid}/${suffix}` });

    // Bulk real-time statistics first: its path would otherwise read as a queue SID.
    router.post(
      '/v1/Workspaces/:workspace/TaskQueues/RealTimeStatistics',
      (req) => {
        const ws = workspace(req);
        const body = req.body;
        const sids = Array.isArray(body) ? body : body && (body.QueueSids || body.queue_sids || body.TaskQueueSids);
        if (!Array.isArray(sids) || sids.length === 0) throw errors.invalidParam('body', 'expected a JSON array of TaskQueue SIDs');
        if (sids.length > BULK_MAX) throw errors.invalidParam('body', `at most ${BULK_MAX} TaskQueue SIDs per request, got ${sids.length}`);
        try {
          bulkLimiter.hit(`bulk:${ws.sid}`);
        } catch {
          throw new TwilioError(429, 20429, 'Too Many Requests: at most 5 bulk statistics requests per second');
        }
        const data = sids.map((sid) => {
          const q = area(ctx).queues.get(sid);
          if (!q) throw errors.invalidParam('body', `${sid} is not a TaskQueue of this workspace`);
          const { longest_relative_task_age_in_queue: _a, longest_relative_task_sid_in_queue: _b, ...rt } = realtime(ctx, q, null);
          return { task_queue_sid: q.sid, ...rt };
        });
        return { status: 201, body: { account_sid: ctx.accountSid, workspace_sid: ws.sid, task_queue_data: data, task_queue_response_count: data.length, url: `${base(ws)}/RealTimeStatistics` } };
      },
      opts,
    );

    // The list of every queue's statistics: before /TaskQueues/:queue, whose SID it would read as.
    router.get(
      '/v1/Workspaces/:workspace/TaskQueues/Statistics',
      (req) => {
        const ws = workspace(req);
        const ch = channelOf(req.query, lib);
        let queues = [...area(ctx).queues.values()];
        if (req.query.FriendlyName) queues = queues.filter((q) => q.friendlyName === req.query.FriendlyName);
        const rows = queues.map((q) => ({ account_sid: ctx.accountSid, workspace_sid: ws.sid, task_queue_sid: q.sid, cumulative: cumulative(ctx, q, ch, req.query), realtime: realtime(ctx, q, ch) }));
        return { body: lib.page(rows, { key: 'task_queues_statistics', baseUrl: `${base(ws)}/Statistics`, query: req.query }) };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/TaskQueues',
      (req) => {
        const ws = workspace(req);
        let queues = [...area(ctx).queues.values()];
        if (req.query.FriendlyName) queues = queues.filter((q) => q.friendlyName === req.query.FriendlyName);
        if (req.query.WorkerSid) queues = queues.filter((q) => q.workerSids.has(req.query.WorkerSid));
        return {
          body: lib.page(
            queues.map((q) => queueView(ws, q)),
            { key: 'task_queues', baseUrl: base(ws), query: req.query },
          ),
        };
      },
      opts,
    );
    router.post(
      '/v1/Workspaces/:workspace/TaskQueues',
      (req) => {
        const ws = workspace(req);
        if (!req.body.FriendlyName) throw errors.missingParam('FriendlyName');
        const q = createQueue(ctx, { friendlyName: String(req.body.FriendlyName), targetWorkers: req.body.TargetWorkers || '1==1' });
        return { status: 201, body: queueView(ws, q) };
      },
      opts,
    );
    router.get('/v1/Workspaces/:workspace/TaskQueues/:queue', (req) => ({ body: queueView(workspace(req), findQueue(req)) }), opts);
    router.delete(
      '/v1/Workspaces/:workspace/TaskQueues/:queue',
      (req) => {
        const q = findQueue(req);
        if (q.tasks.size > 0) throw new TwilioError(400, 20001, `TaskQueue ${q.sid} still has ${q.tasks.size} tasks`);
        deleteQueue(ctx, q.sid);
        return { status: 204 };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/TaskQueues/:queue/RealTimeStatistics',
      (req) => {
        const q = findQueue(req);
        const ch = channelOf(req.query, lib);
        return { body: { ...envelope(workspace(req), q, 'RealTimeStatistics'), ...realtime(ctx, q, ch) } };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/TaskQueues/:queue/CumulativeStatistics',
      (req) => {
        const q = findQueue(req);
        const ch = channelOf(req.query, lib);
        return { body: { ...envelope(workspace(req), q, 'CumulativeStatistics'), ...cumulative(ctx, q, ch, req.query) } };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/TaskQueues/:queue/Statistics',
      (req) => {
        const q = findQueue(req);
        const ch = channelOf(req.query, lib);
        return { body: { ...envelope(workspace(req), q, 'Statistics'), cumulative: cumulative(ctx, q, ch, req.query), realtime: realtime(ctx, q, ch) } };
      },
      opts,
    );
  },

  snapshot(state, ctx) {
    return {
      queues: [...state.queues.values()].map((q) => ({
        sid: q.sid,
        friendlyName: q.friendlyName,
        workers: [...q.workerSids],
        tasks: [...q.tasks.values()].map((t) => ({ sid: t.sid, channel: t.channel, status: t.status, priority: t.priority })),
        steps: q.log.length,
        realtime: realtime(ctx, q, null),
      })),
    };
  },
};
