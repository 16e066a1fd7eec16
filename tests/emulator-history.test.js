// The emulator's TaskRouter history endpoints through the real `twilio` client: the Events list
// (filters kept across pages, newest first) and worker cumulative statistics, both derived from
// the same task steps and activity changes as the queue statistics.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');
const { emulatorClient } = require('./helpers/emulator-client');

let emu;
let ws;
let q;
const T0 = Date.parse('2026-11-02T10:00:00Z');
// The emulator's clock stands still at `ms`, so a step lands on its exact millisecond however
// loaded the machine is; `emu.clock.resume()` returns it to the real time.
const at = (ms) => emu.clock.hold(ms);

before(async () => {
  emu = await startEmulator({ port: 0 });
  ws = emulatorClient(emu).taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID);
  at(T0);
  q = trs.createQueue(emu.ctx, { friendlyName: 'Sales' });
  trs.addWorker(emu.ctx, q.sid, 'WKa', { activity: 'Available' });
  for (let i = 0; i < 5; i++) {
    at(T0 + i * 60000);
    trs.taskStep(emu.ctx, q.sid, `WT${i}`, 'entered');
    at(T0 + i * 60000 + 10000);
    trs.taskStep(emu.ctx, q.sid, `WT${i}`, 'accepted');
    at(T0 + i * 60000 + 40000);
    trs.taskStep(emu.ctx, q.sid, `WT${i}`, 'completed');
  }
  at(T0 + 30 * 60000);
  trs.setActivity(emu.ctx, 'WKa', 'Break');
  at(T0 + 45 * 60000);
  trs.setActivity(emu.ctx, 'WKa', 'Offline');
  emu.clock.resume();
});

after(() => emu.close());

test('Events: every step, filtered by type and window, paged with the filters kept', async () => {
  const accepted = await ws.events.list({ eventType: 'reservation.accepted', startDate: new Date(T0), endDate: new Date(T0 + 3600000), pageSize: 2 });
  assert.equal(accepted.length, 5);
  assert.ok(accepted.every((e) => e.eventType === 'reservation.accepted' && e.eventData.task_queue_sid === q.sid));
  assert.deepEqual(
    accepted.map((e) => e.eventData.task_sid),
    ['WT4', 'WT3', 'WT2', 'WT1', 'WT0'],
  );
  const firstTwoMinutes = await ws.events.list({ startDate: new Date(T0), endDate: new Date(T0 + 119000), pageSize: 50 });
  assert.deepEqual(
    firstTwoMinutes.map((e) => e.eventType).sort(),
    ['reservation.accepted', 'reservation.accepted', 'task-queue.entered', 'task-queue.entered', 'task.completed', 'task.completed', 'worker.activity.update'].sort(),
  );
  const activity = await ws.events.list({ eventType: 'worker.activity.update', startDate: new Date(T0), endDate: new Date(T0 + 3600000) });
  assert.deepEqual(
    activity.map((e) => e.eventData.worker_activity_name),
    ['Offline', 'Break', 'Available'],
  ); // logging in at T0 is a change too
});

test("worker statistics: seconds per activity inside the window (the workspace's: Twilio's definition takes no queue); a queue's workers", async () => {
  const stats = await ws.workers.cumulativeStatistics().fetch({ startDate: new Date(T0), endDate: new Date(T0 + 3600000) });
  const total = Object.fromEntries(stats.activityDurations.map((a) => [a.friendly_name, a.total]));
  assert.deepEqual([total.Available, total.Break, total.Offline], [1800, 900, 900]);
  const later = await ws.workers.cumulativeStatistics().fetch({ startDate: new Date(T0 + 40 * 60000), endDate: new Date(T0 + 50 * 60000) });
  assert.equal(later.activityDurations.find((a) => a.friendly_name === 'Break').total, 300);
  // Per queue: the queue's eligible workers (Workers?TaskQueueSid=, declared by Twilio).
  const other = trs.createQueue(emu.ctx, { friendlyName: 'Empty' });
  assert.deepEqual(
    (await ws.workers.list({ taskQueueSid: q.sid })).map((w) => w.sid),
    [...q.workerSids],
  );
  assert.deepEqual(await ws.workers.list({ taskQueueSid: other.sid }), []);
});

test('cumulative statistics of any hour agree with the events of that hour', async () => {
  const window = { startDate: new Date(T0), endDate: new Date(T0 + 150000) };
  const stats = await ws.taskQueues(q.sid).cumulativeStatistics().fetch(window);
  const events = await ws.events.list({ ...window, taskQueueSid: q.sid });
  const count = (type) => events.filter((e) => e.eventType === type).length;
  assert.equal(stats.tasksEntered, count('task-queue.entered'));
  assert.equal(stats.reservationsAccepted, count('reservation.accepted'));
  assert.equal(stats.tasksCompleted, count('task.completed'));
  assert.deepEqual([stats.tasksEntered, stats.reservationsAccepted, stats.tasksCompleted], [3, 3, 2]);
});
