// realtimestats-updateQueueStatistics end to end: the real local runtime (twilio-run) receives
// TaskRouter's form-encoded event callbacks, the real `twilio` client talks to the emulator, and
// the records are read back from the emulator's Sync state.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { startEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');
const { startRuntime } = require('./helpers/runtime');

const PATH = '/realtimestats-updateQueueStatistics';
const sid = (prefix) => prefix + crypto.randomBytes(16).toString('hex');

let emu;
const runtimes = {};

function envFor(layout, extra = {}) {
  const env = emu.functionEnv();
  return {
    ...env,
    TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID,
    TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID,
    QUEUE_STATS_LAYOUT: layout,
    QUEUE_STATS_TIME_ZONE: 'America/New_York',
    ...extra,
  };
}

before(async () => {
  emu = await startEmulator({ port: 0 });
  [runtimes.map, runtimes.documents, runtimes.broken] = await Promise.all([
    startRuntime({ env: envFor('map') }),
    startRuntime({ env: envFor('documents') }),
    startRuntime({ env: envFor('map', { QUEUE_STATS_TIME_ZONE: 'Mars/Olympus_Mons' }) }),
  ]);
});

after(async () => {
  try {
    await Promise.all(Object.values(runtimes).map((rt) => rt.stop()));
  } finally {
    await emu.close();
  }
});

const service = () => emu.state.sync.services.get(emu.functionEnv().SYNC_SERVICE_SID);
const mapNamed = (name) => [...service().maps.values()].find((m) => m.uniqueName === name);
function mapRecord(queueSid) {
  const map = mapNamed('queueStats');
  const item = map && map.items.get(queueSid);
  return item ? item.data : undefined;
}
function documentRecord(queueSid) {
  const docs = service().documents;
  const doc = docs && [...docs.values()].find((d) => d.uniqueName === `queueStats.${queueSid}`);
  return doc ? doc.data : undefined;
}

/** TaskRouter's callback fields for a task event (names from the TaskRouter event reference). */
function taskEvent(eventType, { queue, task, channel = 'voice', worker, reservation, priority = 0, extra = {} }) {
  const ws = emu.functionEnv().WORKSPACE_SID;
  const now = emu.clock.now();
  const fields = {
    EventType: eventType,
    AccountSid: emu.functionEnv().ACCOUNT_SID,
    WorkspaceSid: ws,
    WorkspaceName: 'Flex Task Assignment',
    EventDescription: `Task ${task} ${eventType}`,
    ResourceType: eventType.startsWith('reservation.') ? 'Reservation' : 'Task',
    ResourceSid: eventType.startsWith('reservation.') ? reservation : task,
    Sid: sid('EV'),
    Timestamp: String(Math.floor(now / 1000)),
    EventDate: new Date(now).toISOString(),
    EventDateMs: String(now),
    TaskSid: task,
    TaskAttributes: JSON.stringify({ from: '+15551230000', direction: 'inbound' }),
    TaskAge: '0',
    TaskPriority: String(priority),
    TaskAssignmentStatus: 'pending',
    TaskChannelSid: sid('TC'),
    TaskChannelUniqueName: channel,
    WorkflowSid: sid('WW'),
    WorkflowName: 'Assign to Anyone',
    ...extra,
  };
  if (queue) {
    fields.TaskQueueSid = queue.sid;
    fields.TaskQueueName = queue.friendlyName;
    fields.TaskQueueEnteredDate = new Date(now).toISOString();
    fields.TaskQueueTargetExpression = '1==1';
  }
  if (worker) {
    fields.WorkerSid = worker;
    fields.WorkerName = 'alice';
    fields.WorkerActivityName = 'Available';
  }
  if (reservation) fields.ReservationSid = reservation;
  return fields;
}

async function post(rt, fields) {
  const res = await fetch(rt.url(PATH), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': 'not-checked-locally' },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

function newQueue(name, workers = []) {
  const q = trs.createQueue(emu.ctx, { friendlyName: name });
  for (const [w, activity] of workers) trs.addWorker(emu.ctx, q.sid, w, { activity });
  return q;
}

test("a task's whole life, from entering the queue to completion (map layout)", async () => {
  const rt = runtimes.map;
  const alice = sid('WK');
  const bob = sid('WK');
  const q = newQueue('Sales', [
    [alice, 'Available'],
    [bob, 'Offline'],
  ]);
  const task = sid('WT');
  const reservation = sid('WR');

  let r = await post(rt, taskEvent('task.created', { task }));
  assert.equal(r.status, 200);
  assert.equal(r.body.plan.action, 'none', 'a task in no queue yet changes no queue');
  assert.equal(r.body.taskrouterCalls, 0);

  trs.taskStep(emu.ctx, q.sid, task, 'entered', { channel: 'voice' });
  r = await post(rt, taskEvent('task-queue.entered', { queue: q, task }));
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.plan.channels, ['all', 'voice']);
  assert.equal(r.body.taskrouterCalls, 2, 'one Statistics call for all and one for voice');
  assert.equal(r.body.syncWrites >= 1, true);
  let rec = mapRecord(q.sid);
  assert.equal(rec.sid, q.sid);
  assert.equal(rec.friendlyName, 'Sales');
  assert.equal(rec.realTimeStats_all.tasksByStatus.pending, 1);
  assert.equal(rec.realTimeStats_voice.totalTasks, 1);
  assert.equal(rec.realTimeStats_all.eligibleWorkers, 2);
  assert.equal(rec.realTimeStats_all.availableWorkers, 1);
  assert.deepEqual(
    rec.realTimeStats_all.activityStatistics.filter((a) => a.workers > 0),
    [
      { friendly_name: 'Offline', workers: 1 },
      { friendly_name: 'Available', workers: 1 },
    ],
  );
  assert.equal(rec.cumulativeStats_voice.tEnter, 1);
  assert.ok(rec.oldestTaskEnteredAt, 'the oldest task has an entry instant a client can age');
  assert.equal(rec.realTimeStats_chat, undefined, 'channels with no event yet are not fetched');
  assert.ok(rec.updatedAt);
  assert.equal(rec.slaTarget, 0.8);

  // Answered after 20 s: below every threshold.
  emu.clock.advance(20000);
  trs.taskStep(emu.ctx, q.sid, task, 'reserved');
  await post(rt, taskEvent('reservation.created', { queue: q, task, worker: alice, reservation }));
  assert.equal(mapRecord(q.sid).realTimeStats_all.tasksByStatus.reserved, 1);
  assert.equal(mapRecord(q.sid).cumulativeStats_all.rCreated, 1);
  trs.taskStep(emu.ctx, q.sid, task, 'accepted');
  await post(rt, taskEvent('reservation.accepted', { queue: q, task, worker: alice, reservation }));
  rec = mapRecord(q.sid);
  assert.equal(rec.cumulativeStats_voice.rAccepted, 1);
  assert.equal(rec.realTimeStats_all.tasksByStatus.assigned, 1);
  assert.equal(rec.oldestTaskEnteredAt, null, 'nobody waits any more');
  assert.deepEqual(rec.cumulativeStats_voice.serviceLevel['30'], { level: 1, breached: false });
  assert.equal(rec.cumulativeStats_voice.splitByWaitTime['30'].below.reservations_accepted, 1);

  trs.taskStep(emu.ctx, q.sid, task, 'wrapup');
  await post(rt, taskEvent('task.wrapup', { queue: q, task, worker: alice }));
  assert.equal(mapRecord(q.sid).realTimeStats_all.tasksByStatus.wrapping, 1);
  trs.taskStep(emu.ctx, q.sid, task, 'completed');
  await post(rt, taskEvent('task.completed', { queue: q, task, worker: alice, extra: { TaskCompletedReason: 'Task completed' } }));
  rec = mapRecord(q.sid);
  assert.equal(rec.cumulativeStats_all.tCompl, 1);
  assert.equal(rec.cumulativeStats_voice.tCompl, 1);
  assert.equal(rec.realTimeStats_all.totalTasks, 0);

  // The same event again changes nothing: Sync's revision is still the one this container wrote
  // (a read, no write budget), so there is no Sync write.
  r = await post(rt, taskEvent('task.completed', { queue: q, task, worker: alice }));
  assert.equal(r.body.syncWrites, 0);
  assert.equal(r.body.skipped, 1);
});

test('an abandoned task breaches the service level; a short abandon does not count', async () => {
  const rt = runtimes.map;
  const q = newQueue('Support', [[sid('WK'), 'Available']]);
  const short = sid('WT');
  const long = sid('WT');
  trs.taskStep(emu.ctx, q.sid, short, 'entered', { channel: 'chat' });
  trs.taskStep(emu.ctx, q.sid, long, 'entered', { channel: 'chat' });
  await post(rt, taskEvent('task-queue.entered', { queue: q, task: long, channel: 'chat' }));
  emu.clock.advance(10000);
  trs.taskStep(emu.ctx, q.sid, short, 'canceled');
  await post(rt, taskEvent('task.canceled', { queue: q, task: short, channel: 'chat', extra: { TaskCanceledReason: 'hangup' } }));
  let rec = mapRecord(q.sid);
  assert.equal(rec.cumulativeStats_chat.tCanc, 1);
  assert.deepEqual(rec.cumulativeStats_chat.serviceLevel['30'], { level: null, breached: false }, 'a short abandon counts neither way');
  emu.clock.advance(40000);
  trs.taskStep(emu.ctx, q.sid, long, 'canceled');
  const r = await post(rt, taskEvent('task.canceled', { queue: q, task: long, channel: 'chat', extra: { TaskCanceledReason: 'hangup' } }));
  assert.equal(r.status, 200);
  rec = mapRecord(q.sid);
  assert.equal(rec.cumulativeStats_chat.tCanc, 2);
  // 50 s of emulator clock, plus the real time the posts took (writes to the shared map are paced
  // by Sync's size-dependent budget, so a post may wait up to a second for it).
  const waited = rec.cumulativeStats_chat.waitUntilCancel.max;
  assert.ok(waited >= 50 && waited <= 53, `waited ${waited} s`);
  assert.deepEqual(rec.cumulativeStats_chat.serviceLevel['30'], { level: 0, breached: true });
  assert.deepEqual(rec.cumulativeStats_chat.serviceLevel['60'], { level: null, breached: false });
  assert.equal(rec.realTimeStats_voice, undefined);
});

test('a queue created and deleted adds and removes its record', async () => {
  const rt = runtimes.map;
  const q = newQueue('Billing', [[sid('WK'), 'Available']]);
  const base = {
    EventType: 'task-queue.created',
    ResourceType: 'TaskQueue',
    ResourceSid: q.sid,
    TaskQueueSid: q.sid,
    TaskQueueFriendlyName: 'Billing',
    TaskQueueTargetExpression: '1==1',
    WorkspaceSid: emu.functionEnv().WORKSPACE_SID,
  };
  let r = await post(rt, base);
  assert.equal(r.body.plan.action, 'create');
  const rec = mapRecord(q.sid);
  for (const ch of ['all', 'voice', 'chat', 'video']) {
    assert.ok(rec[`realTimeStats_${ch}`], `realTimeStats_${ch}`);
    assert.ok(rec[`cumulativeStats_${ch}`], `cumulativeStats_${ch}`);
  }
  assert.equal(rec.friendlyName, 'Billing');
  trs.deleteQueue(emu.ctx, q.sid);
  r = await post(rt, { ...base, EventType: 'task-queue.deleted' });
  assert.equal(r.body.plan.action, 'delete');
  assert.equal(mapRecord(q.sid), undefined);
  // Deleting again is harmless.
  r = await post(rt, { ...base, EventType: 'task-queue.deleted' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.errors, []);
});

test("a worker's activity change refreshes the agent figures of that worker's queues in bulk", async () => {
  const rt = runtimes.map;
  const carol = sid('WK');
  const q1 = newQueue('Tier 1', [[carol, 'Available']]);
  const q2 = newQueue('Tier 2', [
    [carol, 'Available'],
    [sid('WK'), 'Available'],
  ]);
  const other = newQueue('Elsewhere', [[sid('WK'), 'Available']]);
  for (const q of [q1, q2, other]) await post(rt, { EventType: 'task-queue.created', TaskQueueSid: q.sid, TaskQueueFriendlyName: q.friendlyName });
  const before = mapRecord(other.sid);
  trs.setActivity(emu.ctx, carol, 'Break');
  const requestsBefore = emu.requests.length;
  const r = await post(rt, {
    EventType: 'worker.activity.update',
    ResourceType: 'Worker',
    ResourceSid: carol,
    WorkerSid: carol,
    WorkerName: 'carol',
    WorkerActivityName: 'Break',
    WorkerPreviousActivitySid: sid('WA'),
    WorkerTimeInPreviousActivity: '300',
  });
  assert.equal(r.body.plan.action, 'refreshWorkers');
  assert.equal(r.body.taskrouterCalls, 2, 'one list of her queues, one bulk statistics request');
  const bulk = emu.requests.slice(requestsBefore).filter((x) => x.method === 'POST' && x.path.endsWith('/TaskQueues/RealTimeStatistics'));
  assert.equal(bulk.length, 1);
  assert.deepEqual([...bulk[0].body].sort(), [q1.sid, q2.sid].sort());
  assert.equal(mapRecord(q1.sid).realTimeStats_all.availableWorkers, 0);
  assert.equal(mapRecord(q2.sid).realTimeStats_all.availableWorkers, 1);
  assert.equal(mapRecord(q1.sid).realTimeStats_all.activityStatistics.find((a) => a.friendly_name === 'Break').workers, 1);
  assert.ok(mapRecord(q1.sid).cumulativeStats_all, 'cumulative figures are kept');
  assert.deepEqual(mapRecord(other.sid), before, 'queues she is not in are untouched');
});

test('a failing statistics call keeps the previous figures and says so in the record', async () => {
  const rt = runtimes.map;
  const q = newQueue('Escalations', [[sid('WK'), 'Available']]);
  const t1 = sid('WT');
  trs.taskStep(emu.ctx, q.sid, t1, 'entered', { channel: 'voice' });
  await post(rt, taskEvent('task-queue.entered', { queue: q, task: t1 }));
  const before = mapRecord(q.sid);
  const t2 = sid('WT');
  trs.taskStep(emu.ctx, q.sid, t2, 'entered', { channel: 'voice' });
  emu.failNext({ method: 'GET', path: new RegExp(`/TaskQueues/${q.sid}/Statistics$`) }, { status: 500, times: 2 });
  const r = await post(rt, taskEvent('task-queue.entered', { queue: q, task: t2 }));
  assert.equal(r.status, 200, 'TaskRouter must not retry: the next event repairs the record');
  const rec = mapRecord(q.sid);
  assert.deepEqual(rec.realTimeStats_all, before.realTimeStats_all);
  assert.deepEqual(rec.realTimeStats_voice, before.realTimeStats_voice);
  assert.match(rec.realTimeStatsMessage, /all: .*Internal Server Error/);
  assert.match(rec.cumulativeStatsMessage, /voice: /);
  // The next event succeeds and clears the message.
  const r2 = await post(rt, taskEvent('task-queue.entered', { queue: q, task: t2 }));
  assert.deepEqual(r2.body.errors, []);
  assert.equal(mapRecord(q.sid).realTimeStatsMessage, undefined);
  assert.equal(mapRecord(q.sid).realTimeStats_all.totalTasks, 2);
});

test('malformed and irrelevant events are 200 no-ops; checkMap=true is accepted', async () => {
  const rt = runtimes.map;
  const writesBefore = emu.requests.filter((x) => x.method !== 'GET').length;
  const cases = [
    [{}, /no EventType/],
    [{ checkMap: 'true' }, /no EventType/],
    [{ EventType: 'made.up' }, /unknown EventType/],
    [{ EventType: 'task-queue.entered', TaskQueueSid: 'WQ-not-a-sid' }, /not a TaskQueue SID/],
    [{ EventType: 'worker.activity.update' }, /without WorkerSid/],
    [{ EventType: 'workflow.target-matched', TaskQueueSid: sid('WQ') }, /workflow events/],
  ];
  for (const [fields, reason] of cases) {
    const r = await post(rt, fields);
    assert.equal(r.status, 200, JSON.stringify(fields));
    assert.equal(r.body.plan.action, 'none');
    assert.match(r.body.plan.reason, reason);
  }
  const res = await fetch(rt.url(`${PATH}?checkMap=true`));
  assert.equal(res.status, 200);
  assert.equal(emu.requests.filter((x) => x.method !== 'GET').length, writesBefore, 'nothing was written');
});

test('documents layout: one Sync document per queue plus an index map', async () => {
  const rt = runtimes.documents;
  const q = newQueue('Retention', [[sid('WK'), 'Available']]);
  const task = sid('WT');
  trs.taskStep(emu.ctx, q.sid, task, 'entered', { channel: 'video' });
  const r = await post(rt, taskEvent('task-queue.entered', { queue: q, task, channel: 'video' }));
  assert.equal(r.status, 200);
  const rec = documentRecord(q.sid);
  assert.equal(rec.sid, q.sid);
  assert.equal(rec.realTimeStats_video.totalTasks, 1);
  assert.equal(mapRecord(q.sid), undefined, 'nothing in the map layout');
  const index = mapNamed('queueStats.index');
  assert.deepEqual(index.items.get(q.sid).data, { sid: q.sid, friendlyName: 'Retention', document: `queueStats.${q.sid}` });
  trs.taskStep(emu.ctx, q.sid, task, 'canceled');
  trs.deleteQueue(emu.ctx, q.sid);
  await post(rt, { EventType: 'task-queue.deleted', TaskQueueSid: q.sid });
  assert.equal(documentRecord(q.sid), undefined);
  assert.equal(index.items.get(q.sid), undefined);
});

test('an invalid QUEUE_STATS_* value is a 500 that names it', async () => {
  const r = await post(runtimes.broken, { EventType: 'task.created' });
  assert.equal(r.status, 500);
  assert.match(r.body.error, /QUEUE_STATS_TIME_ZONE="Mars\/Olympus_Mons"/);
});
