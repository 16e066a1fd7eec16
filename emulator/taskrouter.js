// TaskRouter (taskrouter.twilio.com/v1), one seeded workspace:
//   POST /v1/Workspaces/{WS}/Tasks                         create (WorkflowSid, Attributes, Priority, TaskChannel, Timeout)
//   GET  /v1/Workspaces/{WS}/Tasks[/{WT}]                  list (EvaluateTaskAttributes: `a == "x" AND b == true`) / fetch
//   POST /v1/Workspaces/{WS}/Tasks/{WT}                    update (AssignmentStatus canceled|wrapping|completed, Reason, Attributes, Priority)
//   GET  /v1/Workspaces/{WS}/Tasks/{WT}/Reservations       list (ReservationStatus, WorkerSid)
//   POST /v1/Workspaces/{WS}/Workers                       create (FriendlyName, Attributes)
//   GET  /v1/Workspaces/{WS}/Workers[/{WK}]                list (TaskQueueSid, ActivityName, TargetWorkersExpression) / fetch
//   POST /v1/Workspaces/{WS}/Workers/{WK}                  update (FriendlyName, Attributes, ActivitySid)
//   GET  /v1/Workspaces/{WS}/Workers/{WK}/Channels[/{WC or unique name}]
//   POST /v1/Workspaces/{WS}/Workers/{WK}/Channels/{WC or unique name}   update (Capacity, Available)
// Leniency: any well-formed workflow SID (WW + 32 hex) is accepted, since the Flex plugin sends
// the SIDs of real workflows; tasks stay `pending` (nothing routes them) unless a test assigns
// them (emulator endpoints, no credentials), or they are direct calls (`directCall.workerSid`,
// reserved for that worker only when they can take it: direct-routing.js):
//   POST /emulator/taskrouter/tasks                   {workerSid, attributes (JSON), status?, channel?, workflowSid?}
//        a task with a reservation for the worker in `status` (default accepted: the task is assigned)
//   POST /emulator/taskrouter/tasks/{WT}/reservations {workerSid, status}: the worker's reservation
//        of the task is created or moved to `status`; the task's assignment status follows
//        (pending -> reserved, accepted -> assigned, wrapping -> wrapping, completed -> completed,
//        canceled -> canceled, rejected/timeout/rescinded -> pending); with `event=true` the
//        reservation's event (reservation.<status>, TaskRouter's fields, the task's attributes) is
//        delivered to the workspace's Event Callback URL (POST /emulator/event-callback), `repeat`
//        times (a duplicate delivery); the answer carries the deliveries. A task that is canceled or
//        completed cannot be reserved again (400), as TaskRouter never offers it again.

const { compile: compileWorkerExpression } = require('./worker-expressions');
const { directCallTarget } = require('./direct-routing');
const events = require('./events');

const CHANNELS = ['default', 'voice', 'chat', 'sms', 'video', 'email'];
const RESERVATION_STATUSES = ['pending', 'accepted', 'rejected', 'timeout', 'canceled', 'rescinded', 'wrapping', 'completed'];
const TASK_STATUS_OF_RESERVATION = { pending: 'reserved', accepted: 'assigned', wrapping: 'wrapping', completed: 'completed', canceled: 'canceled' };

function ensureWorker(ctx, sid, friendlyName) {
  const { lib, clock } = ctx;
  const ws = ctx.state.taskrouter.workspace;
  if (ws.workers.has(sid)) return ws.workers.get(sid);
  const now = clock.now();
  const worker = {
    sid,
    friendlyName: friendlyName || sid,
    attributes: JSON.stringify({ contact_uri: `client:${friendlyName || sid}` }),
    activityName: 'Offline',
    dateCreated: now,
    dateUpdated: now,
    channels: new Map(),
  };
  for (const name of CHANNELS) {
    worker.channels.set(name, {
      sid: lib.fixedSid('WC', `${sid}:${name}`),
      taskChannelSid: lib.fixedSid('TC', `channel:${name}`),
      uniqueName: name,
      capacity: name === 'chat' ? 3 : 1,
      available: true,
      dateCreated: now,
      dateUpdated: now,
    });
  }
  ws.workers.set(sid, worker);
  return worker;
}

module.exports = {
  name: 'taskrouter',
  ensureWorker,

  init(ctx) {
    const sid = ctx.lib.fixedSid('WS', 'emulator-workspace');
    ctx.env.WORKSPACE_SID = sid;
    return { workspace: { sid, friendlyName: 'Flex Task Assignment', tasks: new Map(), workers: new Map() } };
  },

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const { TwilioError, errors } = lib;
    const host = 'https://taskrouter.twilio.com/v1';
    const opts = { product: 'taskrouter' };
    const ws = () => ctx.state.taskrouter.workspace;

    const findWorkspace = (id, path) => {
      if (id !== ws().sid) throw errors.notFound(path);
      return ws();
    };
    const findWorker = (id, path) => {
      const worker = ws().workers.get(id);
      if (!worker) throw errors.notFound(path);
      return worker;
    };
    const findChannel = (worker, id, path) => {
      const ch = worker.channels.get(id) || [...worker.channels.values()].find((c) => c.sid === id);
      if (!ch) throw errors.notFound(path);
      return ch;
    };
    const jsonObject = (name, raw) => {
      try {
        const v = JSON.parse(String(raw));
        if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      } catch {
        /* fall through */
      }
      throw errors.invalidParam(name, 'must be a JSON object');
    };

    const taskView = (w, t) => ({
      sid: t.sid,
      account_sid: ctx.accountSid,
      workspace_sid: w.sid,
      workflow_sid: t.workflowSid,
      workflow_friendly_name: null,
      attributes: t.attributes,
      assignment_status: t.assignmentStatus,
      age: Math.max(0, Math.floor((clock.now() - t.dateCreated) / 1000)),
      priority: t.priority,
      reason: t.reason || null,
      timeout: t.timeout,
      task_queue_sid: null,
      task_queue_friendly_name: null,
      task_queue_entered_date: null,
      task_channel_sid: lib.fixedSid('TC', `channel:${t.taskChannel}`),
      task_channel_unique_name: t.taskChannel,
      addons: '{}',
      date_created: lib.isoDate(t.dateCreated),
      date_updated: lib.isoDate(t.dateUpdated),
      url: `${host}/Workspaces/${w.sid}/Tasks/${t.sid}`,
      links: { workspace: `${host}/Workspaces/${w.sid}`, workflow: `${host}/Workspaces/${w.sid}/Workflows/${t.workflowSid}` },
    });
    const reservationView = (w, t, r) => ({
      sid: r.sid,
      account_sid: ctx.accountSid,
      workspace_sid: w.sid,
      task_sid: t.sid,
      worker_sid: r.workerSid,
      worker_name: (w.workers.get(r.workerSid) || { friendlyName: r.workerSid }).friendlyName,
      reservation_status: r.status,
      date_created: lib.isoDate(r.dateCreated),
      date_updated: lib.isoDate(r.dateUpdated),
      url: `${host}/Workspaces/${w.sid}/Tasks/${t.sid}/Reservations/${r.sid}`,
      links: { task: `${host}/Workspaces/${w.sid}/Tasks/${t.sid}`, worker: `${host}/Workspaces/${w.sid}/Workers/${r.workerSid}` },
    });
    const workerView = (w, k) => ({
      sid: k.sid,
      account_sid: ctx.accountSid,
      workspace_sid: w.sid,
      friendly_name: k.friendlyName,
      attributes: k.attributes,
      activity_name: k.activityName,
      activity_sid: lib.fixedSid('WA', `activity:${k.activityName}`),
      available: k.activityName === 'Available',
      date_created: lib.isoDate(k.dateCreated),
      date_updated: lib.isoDate(k.dateUpdated),
      date_status_changed: lib.isoDate(k.dateUpdated),
      url: `${host}/Workspaces/${w.sid}/Workers/${k.sid}`,
      links: { channels: `${host}/Workspaces/${w.sid}/Workers/${k.sid}/Channels` },
    });
    const channelView = (w, k, c) => ({
      sid: c.sid,
      account_sid: ctx.accountSid,
      workspace_sid: w.sid,
      worker_sid: k.sid,
      task_channel_sid: c.taskChannelSid,
      task_channel_unique_name: c.uniqueName,
      configured_capacity: c.capacity,
      available: c.available,
      assigned_tasks: assignedTasks(k, c),
      available_capacity_percentage: c.available && c.capacity > 0 ? Math.max(0, Math.floor((100 * (c.capacity - assignedTasks(k, c))) / c.capacity)) : 0,
      date_created: lib.isoDate(c.dateCreated),
      date_updated: lib.isoDate(c.dateUpdated),
      url: `${host}/Workspaces/${w.sid}/Workers/${k.sid}/Channels/${c.sid}`,
    });

    // EvaluateTaskAttributes, the subset of TaskRouter's expression language the bundle uses:
    // comparisons `field == value` / `field != value` (field a dotted path; value a "string",
    // number, true, false or null) joined with AND. Anything else is a 400, as Twilio's
    // 20001 for an expression it cannot parse.
    const attributeTest = (expression) => {
      const clauses = String(expression)
        .split(/\s+AND\s+/i)
        .map((clause) => {
          const m = /^\s*([A-Za-z_][\w.]*)\s*(==|!=)\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)\s*$/.exec(clause);
          if (!m) throw errors.invalidParam('EvaluateTaskAttributes', `cannot evaluate ${JSON.stringify(clause)}`);
          return { path: m[1].split('.'), equal: m[2] === '==', value: JSON.parse(m[3]) };
        });
      return (attrs) =>
        clauses.every(({ path, equal, value }) => {
          const found = path.reduce((v, k) => (v && typeof v === 'object' ? v[k] : undefined), attrs);
          return (found === value) === equal;
        });
    };

    // TargetWorkersExpression (worker-expressions.js); what it cannot evaluate is a 400.
    const targetWorkers = (expression) => {
      let test;
      try {
        test = compileWorkerExpression(expression);
      } catch (err) {
        throw errors.invalidParam('TargetWorkersExpression', `cannot evaluate ${JSON.stringify(String(expression))}: ${err.message}`);
      }
      return (k) =>
        test({ sid: k.sid, friendlyName: k.friendlyName, activityName: k.activityName, activitySid: lib.fixedSid('WA', `activity:${k.activityName}`), attributes: JSON.parse(k.attributes) });
    };
    // A channel's assigned tasks: the tasks of its channel the worker holds (reservation accepted or wrapping).
    const assignedTasks = (k, c) =>
      [...ws().tasks.values()].filter((t) => t.taskChannel === c.uniqueName && t.reservations && ['accepted', 'wrapping'].includes((t.reservations.get(k.sid) || {}).status)).length;

    // Tasks
    router.post(
      '/v1/Workspaces/:workspace/Tasks',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const b = req.body;
        if (!b.WorkflowSid) throw errors.missingParam('WorkflowSid');
        if (!lib.isSid('WW', b.WorkflowSid)) throw errors.invalidParam('WorkflowSid', b.WorkflowSid);
        const attributes = b.Attributes === undefined ? '{}' : JSON.stringify(jsonObject('Attributes', b.Attributes));
        const priority = b.Priority === undefined ? 0 : Number(b.Priority);
        if (!Number.isInteger(priority) || priority < 0) throw errors.invalidParam('Priority', b.Priority);
        const timeout = b.Timeout === undefined ? 86400 : Number(b.Timeout);
        if (!Number.isInteger(timeout) || timeout < 1 || timeout > 31536000) throw errors.invalidParam('Timeout', b.Timeout);
        const taskChannel = b.TaskChannel || 'default';
        if (!CHANNELS.includes(taskChannel) && !lib.isSid('TC', taskChannel)) throw errors.invalidParam('TaskChannel', taskChannel);
        const now = clock.now();
        const task = { sid: lib.newSid('WT'), workflowSid: b.WorkflowSid, attributes, priority, timeout, taskChannel, assignmentStatus: 'pending', dateCreated: now, dateUpdated: now };
        w.tasks.set(task.sid, task);
        const direct = directCallTarget(ctx, task, assignedTasks); // a direct call: its worker only (direct-routing.js)
        if (direct) reserve(task, direct, 'pending');
        return { status: 201, body: taskView(w, task) };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/Tasks',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const test = req.query.EvaluateTaskAttributes === undefined ? () => true : attributeTest(req.query.EvaluateTaskAttributes);
        const tasks = [...w.tasks.values()].filter((t) => test(JSON.parse(t.attributes))).map((t) => taskView(w, t));
        return { body: lib.page(tasks, { key: 'tasks', baseUrl: `${host}/Workspaces/${w.sid}/Tasks`, query: req.query }) };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/Tasks/:task',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const t = w.tasks.get(req.params.task);
        if (!t) throw errors.notFound(req.path);
        return { body: taskView(w, t) };
      },
      opts,
    );

    // Update: TaskRouter's transitions for AssignmentStatus (cancel a task not yet accepted;
    // wrap up or complete an accepted one); cancelling ends its open reservations.
    const TRANSITIONS = { canceled: ['pending', 'reserved'], wrapping: ['assigned'], completed: ['assigned', 'wrapping'] };
    router.post(
      '/v1/Workspaces/:workspace/Tasks/:task',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const t = w.tasks.get(req.params.task);
        if (!t) throw errors.notFound(req.path);
        const b = req.body;
        if (b.AssignmentStatus !== undefined) {
          const to = String(b.AssignmentStatus);
          if (!(to in TRANSITIONS)) throw errors.invalidParam('AssignmentStatus', to);
          if (!TRANSITIONS[to].includes(t.assignmentStatus)) {
            throw new TwilioError(400, 20001, `Task ${t.sid} is ${t.assignmentStatus}; it cannot become ${to}`);
          }
          t.assignmentStatus = to;
          t.reason = b.Reason === undefined ? null : String(b.Reason);
          if (to === 'canceled') for (const r of (t.reservations || new Map()).values()) if (r.status === 'pending') r.status = 'canceled';
        }
        if (b.Attributes !== undefined) t.attributes = JSON.stringify(jsonObject('Attributes', b.Attributes));
        if (b.Priority !== undefined) t.priority = Number(b.Priority);
        t.dateUpdated = clock.now();
        return { body: taskView(w, t) };
      },
      opts,
    );

    router.get(
      '/v1/Workspaces/:workspace/Tasks/:task/Reservations',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const t = w.tasks.get(req.params.task);
        if (!t) throw errors.notFound(req.path);
        const { ReservationStatus: status, WorkerSid: worker } = req.query;
        if (status !== undefined && !RESERVATION_STATUSES.includes(status)) throw errors.invalidParam('ReservationStatus', status);
        const list = [...(t.reservations || new Map()).values()]
          .filter((r) => (status === undefined || r.status === status) && (worker === undefined || r.workerSid === worker))
          .map((r) => reservationView(w, t, r));
        return { body: lib.page(list, { key: 'reservations', baseUrl: `${host}/Workspaces/${w.sid}/Tasks/${t.sid}/Reservations`, query: req.query }) };
      },
      opts,
    );

    // Assignment, for tests (see the header).
    const reserve = (t, workerSid, status) => {
      if (!lib.isSid('WK', workerSid)) throw errors.invalidParam('workerSid', workerSid);
      if (!RESERVATION_STATUSES.includes(status)) throw errors.invalidParam('status', `${status}; expected one of ${RESERVATION_STATUSES.join(', ')}`);
      ensureWorker(ctx, workerSid);
      const now = clock.now();
      t.reservations = t.reservations || new Map();
      const r = t.reservations.get(workerSid) || { sid: lib.fixedSid('WR', `${t.sid}:${workerSid}`), workerSid, dateCreated: now };
      Object.assign(r, { status, dateUpdated: now });
      t.reservations.set(workerSid, r);
      t.assignmentStatus = TASK_STATUS_OF_RESERVATION[status] || 'pending';
      t.dateUpdated = now;
      return r;
    };
    router.post(
      '/emulator/taskrouter/tasks',
      (req) => {
        const w = ws();
        const b = req.body;
        const attributes = JSON.stringify(jsonObject('attributes', b.attributes === undefined ? '{}' : b.attributes));
        const taskChannel = b.channel || 'voice';
        if (!CHANNELS.includes(taskChannel)) throw errors.invalidParam('channel', taskChannel);
        const now = clock.now();
        const task = {
          sid: lib.newSid('WT'),
          workflowSid: b.workflowSid || lib.fixedSid('WW', 'emulator-workflow'),
          attributes,
          priority: 0,
          timeout: 86400,
          taskChannel,
          assignmentStatus: 'pending',
          dateCreated: now,
          dateUpdated: now,
        };
        w.tasks.set(task.sid, task);
        const r = reserve(task, String(b.workerSid || ''), String(b.status || 'accepted'));
        return { status: 201, body: { ...taskView(w, task), reservation: reservationView(w, task, r) } };
      },
      { control: true },
    );
    router.post(
      '/emulator/taskrouter/tasks/:task/reservations',
      async (req) => {
        const w = ws();
        const t = w.tasks.get(req.params.task);
        if (!t) throw errors.notFound(req.path);
        if (['canceled', 'completed'].includes(t.assignmentStatus)) throw errors.invalidParam('task', `${t.sid} is ${t.assignmentStatus}; TaskRouter offers it to no one`);
        const r = reserve(t, String(req.body.workerSid || ''), String(req.body.status || ''));
        const deliveries = [];
        const url = ctx.state.contactCenter && ctx.state.contactCenter.callbackUrl;
        if (url && (req.body.event === true || req.body.event === 'true')) {
          const repeat = Math.min(Math.max(parseInt(req.body.repeat, 10) || 1, 1), 10);
          const now = clock.now();
          const k = w.workers.get(r.workerSid);
          const eventType = `reservation.${{ pending: 'created', wrapping: 'wrapup' }[r.status] || r.status}`;
          const fields = events.eventParams(ctx, eventType, {
            ResourceType: 'Reservation',
            ResourceSid: r.sid,
            ReservationSid: r.sid,
            TaskSid: t.sid,
            TaskAttributes: t.attributes,
            TaskAssignmentStatus: t.assignmentStatus,
            TaskPriority: String(t.priority),
            TaskAge: String(Math.floor((now - t.dateCreated) / 1000)),
            TaskChannelUniqueName: t.taskChannel,
            WorkflowSid: t.workflowSid,
            WorkerSid: r.workerSid,
            WorkerName: k ? k.friendlyName : r.workerSid,
          });
          for (let i = 0; i < repeat; i += 1) deliveries.push(await ctx.deliver(url, fields));
        }
        return { body: { ...taskView(w, t), reservation: reservationView(w, t, r), deliveries } };
      },
      { control: true },
    );

    // Workers
    router.post(
      '/v1/Workspaces/:workspace/Workers',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        if (!req.body.FriendlyName) throw errors.missingParam('FriendlyName');
        if ([...w.workers.values()].some((k) => k.friendlyName === req.body.FriendlyName)) {
          throw new TwilioError(409, 20001, `Worker ${req.body.FriendlyName} already exists`);
        }
        const worker = ensureWorker(ctx, lib.newSid('WK'), req.body.FriendlyName);
        if (req.body.Attributes !== undefined) worker.attributes = JSON.stringify(jsonObject('Attributes', req.body.Attributes));
        return { status: 201, body: workerView(w, worker) };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/Workers',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        let workers = [...w.workers.values()];
        // TaskQueueSid: the queue's eligible workers (taskrouter-stats.js keeps who is eligible).
        if (req.query.TaskQueueSid !== undefined) {
          const q = ctx.state.taskqueues && ctx.state.taskqueues.queues.get(req.query.TaskQueueSid);
          if (!q) throw errors.invalidParam('TaskQueueSid', req.query.TaskQueueSid);
          workers = workers.filter((k) => q.workerSids.has(k.sid));
        }
        if (req.query.ActivityName !== undefined) workers = workers.filter((k) => k.activityName === req.query.ActivityName);
        if (req.query.TargetWorkersExpression !== undefined) workers = workers.filter(targetWorkers(req.query.TargetWorkersExpression));
        return {
          body: lib.page(
            workers.map((k) => workerView(w, k)),
            { key: 'workers', baseUrl: `${host}/Workspaces/${w.sid}/Workers`, query: req.query },
          ),
        };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/Workers/:worker',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        return { body: workerView(w, findWorker(req.params.worker, req.path)) };
      },
      opts,
    );
    router.post(
      '/v1/Workspaces/:workspace/Workers/:worker',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const k = findWorker(req.params.worker, req.path);
        if (req.body.Attributes !== undefined) k.attributes = JSON.stringify(jsonObject('Attributes', req.body.Attributes));
        if (req.body.FriendlyName !== undefined) k.friendlyName = req.body.FriendlyName;
        if (req.body.ActivitySid !== undefined) k.activityName = req.body.ActivitySid === lib.fixedSid('WA', 'activity:Available') ? 'Available' : 'Offline';
        k.dateUpdated = clock.now();
        return { body: workerView(w, k) };
      },
      opts,
    );

    // Worker channels
    router.get(
      '/v1/Workspaces/:workspace/Workers/:worker/Channels',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const k = findWorker(req.params.worker, req.path);
        return {
          body: lib.page(
            [...k.channels.values()].map((c) => channelView(w, k, c)),
            { key: 'channels', baseUrl: `${host}/Workspaces/${w.sid}/Workers/${k.sid}/Channels`, query: req.query },
          ),
        };
      },
      opts,
    );
    router.get(
      '/v1/Workspaces/:workspace/Workers/:worker/Channels/:channel',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const k = findWorker(req.params.worker, req.path);
        return { body: channelView(w, k, findChannel(k, req.params.channel, req.path)) };
      },
      opts,
    );
    router.post(
      '/v1/Workspaces/:workspace/Workers/:worker/Channels/:channel',
      (req) => {
        const w = findWorkspace(req.params.workspace, req.path);
        const k = findWorker(req.params.worker, req.path);
        const c = findChannel(k, req.params.channel, req.path);
        const b = req.body;
        if (b.Capacity !== undefined) {
          const capacity = Number(b.Capacity);
          if (!/^\d+$/.test(String(b.Capacity)) || capacity > 50) throw errors.invalidParam('Capacity', `${b.Capacity} is not an integer between 0 and 50`);
          c.capacity = capacity;
        }
        if (b.Available !== undefined) c.available = String(b.Available).toLowerCase() === 'true';
        c.dateUpdated = clock.now();
        return { body: channelView(w, k, c) };
      },
      opts,
    );
  },

  snapshot: (state, ctx) => {
    const w = state.workspace;
    return {
      workspaceSid: w.sid,
      tasks: Object.fromEntries(
        [...w.tasks.values()].map((t) => [
          t.sid,
          {
            workflowSid: t.workflowSid,
            taskChannel: t.taskChannel,
            priority: t.priority,
            assignmentStatus: t.assignmentStatus,
            attributes: JSON.parse(t.attributes),
            dateCreated: ctx.lib.isoDate(t.dateCreated),
            reservations: Object.fromEntries([...(t.reservations || new Map()).values()].map((r) => [r.workerSid, r.status])),
          },
        ]),
      ),
      workers: Object.fromEntries(
        [...w.workers.values()].map((k) => [
          k.sid,
          { friendlyName: k.friendlyName, channels: Object.fromEntries([...k.channels.values()].map((c) => [c.uniqueName, { sid: c.sid, capacity: c.capacity, available: c.available }])) },
        ]),
      ),
    };
  },
};
