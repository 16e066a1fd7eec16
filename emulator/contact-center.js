// A contact center you can drive over HTTP: queues, agents and task life-cycle steps change the
// TaskRouter state of taskrouter-stats.js, and each change is delivered, signed, to the workspace's
// Event Callback URL with TaskRouter's event fields, as TaskRouter would. `npm run simulate` and
// the wallboard's browser tests drive the real queue-stats function through it.
//
//   POST   /emulator/event-callback              {url}: the workspace's Event Callback URL
//   POST   /emulator/taskqueues                  {friendlyName, sid?} -> queue (task-queue.created; an existing sid is kept)
//   DELETE /emulator/taskqueues/{WQ}             (task-queue.deleted)
//   POST   /emulator/taskqueues/{WQ}/workers     {workerSid?, friendlyName?, activity?} (worker.created)
//   POST   /emulator/workers/{WK}/activity       {activity} (worker.activity.update)
//          both the agent model's (agent-activity.js, which has the agents' own endpoints: tasks
//          answered by a named agent, dispositions, ground truth)
//   POST   /emulator/taskqueues/{WQ}/tasks/{WT}/{step}   {channel?, priority?, ageSeconds? (entered:
//          created that long ago, e.g. in an IVR)}: entered, reserved,
//          accepted, rejected, timeout, rescinded, wrapup, completed, canceled, moved, deleted
//          (a task's steps with no agent: its reservation events name no worker, so the live
//          agents view and the agent history do not see them; POST /emulator/agents/{WK}/tasks/…
//          is the same step taken by an agent)
//
// Each answers `{..., delivery: {status, body}}` (the function's answer) once the callback returned.
// With `async: true` in the body, the change is made at once and its event is queued instead: the
// answer (`{..., queued: n}`) does not wait for the callback, so a simulation's clock never waits
// on the functions. Queued events are delivered in order, at most `concurrency` at a time (default
// 4; `POST /emulator/event-callback {url, concurrency}`), as a workspace's events reach a busy
// callback; `GET /emulator/event-callback` says how many are queued, in flight and delivered.
//
// A queue or worker is one per friendly name (TaskRouter refuses duplicates): creating one with
// the name of an existing one answers the existing one, announced again.
const trs = require('./taskrouter-stats');
const events = require('./events');
const agents = require('./agent-activity');

const EVENT_OF_STEP = {
  entered: 'task-queue.entered',
  reserved: 'reservation.created',
  accepted: 'reservation.accepted',
  rejected: 'reservation.rejected',
  timeout: 'reservation.timeout',
  rescinded: 'reservation.rescinded',
  wrapup: 'task.wrapup',
  completed: 'task.completed',
  canceled: 'task.canceled',
  moved: 'task-queue.moved',
  deleted: 'task.deleted',
};

module.exports = {
  name: 'contactCenter',
  EVENT_OF_STEP,

  init: () => ({ callbackUrl: null, events: 0, concurrency: 4, queue: [], inFlight: 0, delivered: 0, failed: 0 }),

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const control = { control: true };
    const area = () => ctx.state.contactCenter;
    const queueOf = (sid) => {
      const q = ctx.state.taskqueues.queues.get(sid);
      if (!q) throw lib.errors.notFound(`/emulator/taskqueues/${sid}`);
      return q;
    };

    const deliver = (eventType, fields, later = false) => events.deliverEvent(ctx, events.eventParams(ctx, eventType, fields), { later });
    const queueFields = (q) => ({ TaskQueueSid: q.sid, TaskQueueName: q.friendlyName, TaskQueueTargetExpression: q.targetWorkers });

    router.post(
      '/emulator/event-callback',
      (req) => {
        area().callbackUrl = req.body.url ? String(req.body.url) : null;
        if (req.body.concurrency !== undefined) area().concurrency = Math.min(64, Math.max(1, Number(req.body.concurrency) || 1));
        return { body: { url: area().callbackUrl, concurrency: area().concurrency } };
      },
      control,
    );
    router.get(
      '/emulator/event-callback',
      () => {
        const a = area();
        return { body: { url: a.callbackUrl, concurrency: a.concurrency, queued: a.queue.length, inFlight: a.inFlight, delivered: a.delivered, failed: a.failed } };
      },
      control,
    );
    const later = (req) => req.body.async === true || req.body.async === 'true';

    router.post(
      '/emulator/taskqueues',
      async (req) => {
        // A `sid` of an existing queue (e.g. one with seeded history) keeps it and announces it again.
        const queues = ctx.state.taskqueues.queues;
        const known = (req.body.sid && queues.get(req.body.sid)) || (req.body.friendlyName && [...queues.values()].find((x) => x.friendlyName === String(req.body.friendlyName)));
        const q = known || trs.createQueue(ctx, { friendlyName: req.body.friendlyName, sid: req.body.sid });
        const delivery = await deliver('task-queue.created', { ResourceType: 'TaskQueue', ResourceSid: q.sid, ...queueFields(q) });
        return { status: 201, body: { sid: q.sid, friendlyName: q.friendlyName, delivery } };
      },
      control,
    );
    router.delete(
      '/emulator/taskqueues/:queue',
      async (req) => {
        const q = queueOf(req.params.queue);
        trs.deleteQueue(ctx, q.sid);
        const delivery = await deliver('task-queue.deleted', { ResourceType: 'TaskQueue', ResourceSid: q.sid, ...queueFields(q) });
        return { body: { sid: q.sid, delivery } };
      },
      control,
    );
    // Agents are the agent model's (agent-activity.js): the same workers, activities and events as
    // its own endpoints, so the live agents view and the agent history see them.
    router.post(
      '/emulator/taskqueues/:queue/workers',
      async (req) => {
        const q = queueOf(req.params.queue);
        const { workers, deliveries } = await agents.addAgents(ctx, {
          queues: [q.sid],
          workers: [{ sid: req.body.workerSid, friendlyName: req.body.friendlyName, activity: req.body.activity || 'Available' }],
        });
        return { status: 201, body: { sid: workers[0].sid, activity: workers[0].activityName, delivery: deliveries[0] || null } };
      },
      control,
    );
    router.post(
      '/emulator/workers/:worker/activity',
      async (req) => {
        const activity = String(req.body.activity || 'Available');
        const { delivery } = await agents.setActivity(ctx, req.params.worker, activity, { force: true, later: later(req) });
        return { body: { sid: req.params.worker, activity, delivery } };
      },
      control,
    );
    router.post(
      '/emulator/taskqueues/:queue/tasks/:task/:step',
      async (req) => {
        const q = queueOf(req.params.queue);
        const step = req.params.step;
        if (!(step in EVENT_OF_STEP)) throw lib.errors.invalidParam('step', `${step}; expected one of ${Object.keys(EVENT_OF_STEP).join(', ')}`);
        let task;
        try {
          const ageMs = Number(req.body.ageSeconds) > 0 ? Number(req.body.ageSeconds) * 1000 : 0; // created before it entered
          task = trs.taskStep(ctx, q.sid, req.params.task, step, { channel: req.body.channel || 'voice', priority: req.body.priority, createdAt: ageMs ? clock.now() - ageMs : undefined });
        } catch (err) {
          throw lib.errors.invalidParam('task', err.message);
        }
        const eventType = EVENT_OF_STEP[step];
        const reservation = eventType.startsWith('reservation.');
        const delivery = await deliver(
          eventType,
          {
            ResourceType: reservation ? 'Reservation' : 'Task',
            ResourceSid: reservation ? lib.fixedSid('WR', `${task.sid}`) : task.sid,
            TaskSid: task.sid,
            TaskAttributes: '{}',
            TaskAge: String(Math.floor((clock.now() - task.createdAt) / 1000)),
            TaskPriority: String(task.priority),
            TaskAssignmentStatus: task.status,
            TaskChannelSid: lib.fixedSid('TC', `channel:${task.channel}`),
            TaskChannelUniqueName: task.channel,
            TaskQueueEnteredDate: new Date(task.enteredAt).toISOString(),
            ...(reservation ? { ReservationSid: lib.fixedSid('WR', `${task.sid}`) } : {}),
            ...queueFields(q),
          },
          later(req),
        );
        return { body: { task: task.sid, step, status: task.status, delivery } };
      },
      control,
    );
  },

  snapshot: (state) => ({ callbackUrl: state.callbackUrl, events: state.events }),
};
