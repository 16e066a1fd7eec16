// Agents on the floor, for the live agents view (docs/agents-live.md): workers in queues with a
// team attribute, activity changes and reservation steps of a named worker, each delivered, signed,
// to the workspace's Event Callback URL (the one contact-center.js keeps) with the worker fields
// TaskRouter's events carry (WorkerSid, WorkerName, WorkerAttributes, WorkerActivityName, …).
//
//   POST /emulator/agents                           {queues: [WQ…], workers: [{sid?, friendlyName, team?, activity?}], announce?: true}
//        adds the workers to the queues (eligible there); announce: deliver worker.created for each
//   POST /emulator/agents/{WK}/activity             {activity} -> worker.activity.update
//   POST /emulator/agents/{WK}/tasks/{WT}/{step}    {queueSid, channel?}; step: created, accepted,
//        rejected, timeout, canceled, rescinded, wrapup, completed -> reservation.<step>
//        (the task enters the queue first when it is not there; the queue's statistics follow)
//
// Each answers {…, delivery: {status, body}} once the callback returned.
const trs = require('./taskrouter-stats');

const QUEUE_STEP = { created: 'reserved', accepted: 'accepted', rejected: 'rejected', timeout: 'timeout', canceled: 'canceled', rescinded: 'rescinded', wrapup: 'wrapup', completed: 'completed' };

module.exports = {
  name: 'agentFloor',

  init: () => ({ events: 0 }),

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const control = { control: true };
    const workers = () => ctx.state.taskrouter.workspace.workers;
    const workerOf = (sid) => {
      const w = workers().get(sid);
      if (!w) throw lib.errors.notFound(`/emulator/agents/${sid}`);
      return w;
    };

    async function deliver(eventType, fields) {
      const url = ctx.state.contactCenter && ctx.state.contactCenter.callbackUrl;
      if (!url) return null;
      const now = clock.now();
      ctx.state.agentFloor.events += 1;
      const record = await ctx.deliver(url, {
        EventType: eventType,
        AccountSid: ctx.accountSid,
        WorkspaceSid: ctx.state.taskrouter.workspace.sid,
        Sid: lib.newSid('EV'),
        Timestamp: String(Math.floor(now / 1000)),
        EventDate: new Date(now).toISOString(),
        EventDateMs: String(now),
        EventDescription: eventType,
        ...fields,
      });
      let body = record.body;
      try {
        body = JSON.parse(record.body);
      } catch {
        /* as text */
      }
      return { status: record.status, error: record.error, body };
    }
    const workerFields = (w) => ({
      WorkerSid: w.sid,
      WorkerName: w.friendlyName,
      WorkerAttributes: w.attributes,
      WorkerActivityName: w.activityName,
      WorkerActivitySid: lib.fixedSid('WA', `activity:${w.activityName}`),
    });

    router.post(
      '/emulator/agents',
      async (req) => {
        const queues = [].concat(req.body.queues || []).map(String);
        for (const q of queues) if (!ctx.state.taskqueues.queues.has(q)) throw lib.errors.invalidParam('queues', `${q} is not a queue`);
        const list = [].concat(req.body.workers || []);
        const added = [];
        for (const spec of list) {
          const sid = spec.sid || lib.newSid('WK');
          const activity = spec.activity || 'Available';
          let worker;
          for (const q of queues) worker = trs.addWorker(ctx, q, sid, { activity, friendlyName: spec.friendlyName });
          if (!worker) worker = require('./taskrouter').ensureWorker(ctx, sid, spec.friendlyName);
          worker.activityName = activity;
          const attrs = JSON.parse(worker.attributes || '{}');
          if (spec.team) attrs.team_name = String(spec.team);
          worker.attributes = JSON.stringify(attrs);
          added.push(worker);
        }
        const deliveries = [];
        if (req.body.announce !== false) {
          for (const w of added) deliveries.push(await deliver('worker.created', { ResourceType: 'Worker', ResourceSid: w.sid, ...workerFields(w) }));
        }
        return { status: 201, body: { workers: added.map((w) => ({ sid: w.sid, friendlyName: w.friendlyName, activity: w.activityName })), deliveries } };
      },
      control,
    );

    router.post(
      '/emulator/agents/:worker/activity',
      async (req) => {
        const w = workerOf(req.params.worker);
        const previous = w.activityName;
        const since = w.activitySince || w.dateUpdated || clock.now();
        const activity = String(req.body.activity || 'Available');
        trs.setActivity(ctx, w.sid, activity);
        w.activitySince = clock.now();
        const delivery = await deliver('worker.activity.update', {
          ResourceType: 'Worker',
          ResourceSid: w.sid,
          ...workerFields(w),
          WorkerPreviousActivitySid: lib.fixedSid('WA', `activity:${previous}`),
          WorkerPreviousActivityName: previous,
          WorkerTimeInPreviousActivityMs: String(Math.max(0, clock.now() - since)),
          WorkerTimeInPreviousActivity: String(Math.floor(Math.max(0, clock.now() - since) / 1000)),
        });
        return { body: { sid: w.sid, activity, delivery } };
      },
      control,
    );

    router.post(
      '/emulator/agents/:worker/tasks/:task/:step',
      async (req) => {
        const w = workerOf(req.params.worker);
        const step = req.params.step;
        if (!(step in QUEUE_STEP)) throw lib.errors.invalidParam('step', `${step}; expected one of ${Object.keys(QUEUE_STEP).join(', ')}`);
        const queueSid = String(req.body.queueSid || '');
        const q = ctx.state.taskqueues.queues.get(queueSid);
        if (!q) throw lib.errors.invalidParam('queueSid', `${queueSid} is not a queue`);
        const channel = String(req.body.channel || 'voice');
        let task;
        try {
          if (!q.tasks.has(req.params.task) && !['completed', 'canceled'].includes(step)) trs.taskStep(ctx, q.sid, req.params.task, 'entered', { channel });
          task = q.tasks.has(req.params.task) ? trs.taskStep(ctx, q.sid, req.params.task, QUEUE_STEP[step], { channel }) : { sid: req.params.task, channel, status: step, createdAt: clock.now(), enteredAt: clock.now(), priority: 0 };
        } catch (err) {
          throw lib.errors.invalidParam('task', err.message);
        }
        const reservationSid = lib.fixedSid('WR', `${task.sid}:${w.sid}`);
        const delivery = await deliver(`reservation.${step}`, {
          ResourceType: 'Reservation',
          ResourceSid: reservationSid,
          ReservationSid: reservationSid,
          ...workerFields(w),
          TaskSid: task.sid,
          TaskAttributes: '{}',
          TaskAge: String(Math.floor((clock.now() - task.createdAt) / 1000)),
          TaskPriority: String(task.priority || 0),
          TaskAssignmentStatus: task.status,
          TaskChannelSid: lib.fixedSid('TC', `channel:${task.channel}`),
          TaskChannelUniqueName: task.channel,
          TaskQueueSid: q.sid,
          TaskQueueName: q.friendlyName,
          TaskQueueEnteredDate: new Date(task.enteredAt).toISOString(),
        });
        return { body: { worker: w.sid, task: task.sid, step, delivery } };
      },
      control,
    );
  },

  snapshot: (state) => ({ events: state.events }),
};
