// Queue statistics under the faults of issue 7, end to end (twilio-run, the emulator, the real
// `twilio` client): a deleted queue stays deleted, the documents index repairs itself, and a
// record another container changed is corrected instead of skipped.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { startEmulator } = require('../emulator');
const trs = require('../emulator/taskrouter-stats');
const { startRuntime } = require('./helpers/runtime');
const { emulatorClient } = require('./helpers/emulator-client');

const PATH = '/realtimestats-updateQueueStatistics';
const sid = (prefix) => prefix + crypto.randomBytes(16).toString('hex');

let emu;
let client;
const rts = {};

before(async () => {
  emu = await startEmulator({ port: 0 });
  client = emulatorClient(emu);
  const env = (layout) => ({ ...emu.functionEnv(), QUEUE_STATS_LAYOUT: layout });
  [rts.map, rts.map2, rts.documents] = await Promise.all([startRuntime({ env: env('map') }), startRuntime({ env: env('map') }), startRuntime({ env: env('documents') })]);
});

after(async () => {
  try {
    await Promise.all(Object.values(rts).map((rt) => rt.stop()));
  } finally {
    await emu.close();
  }
});

const svc = () => client.sync.v1.services(emu.functionEnv().SYNC_SERVICE_SID);
const orNull = (p) => p.catch((err) => (err.status === 404 ? null : Promise.reject(err)));
const mapItem = (key) => orNull(svc().syncMaps('queueStats').syncMapItems(key).fetch());
const indexItem = (key) => orNull(svc().syncMaps('queueStats.index').syncMapItems(key).fetch());
const doc = (key) => orNull(svc().documents(`queueStats.${key}`).fetch());

async function post(rt, fields) {
  const res = await fetch(rt.url(PATH), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  return { status: res.status, body: await res.json() };
}

const taskEvent = (EventType, q, task) => ({
  EventType,
  ResourceType: 'Task',
  ResourceSid: task,
  TaskSid: task,
  TaskQueueSid: q.sid,
  TaskQueueName: q.friendlyName,
  TaskChannelUniqueName: 'voice',
  WorkspaceSid: emu.functionEnv().WORKSPACE_SID,
});
const queueEvent = (EventType, q) => ({
  EventType,
  ResourceType: 'TaskQueue',
  ResourceSid: q.sid,
  TaskQueueSid: q.sid,
  TaskQueueFriendlyName: q.friendlyName,
  WorkspaceSid: emu.functionEnv().WORKSPACE_SID,
});

for (const layout of ['map', 'documents']) {
  test(`${layout} layout: a late event after task-queue.deleted writes no record`, async () => {
    const rt = rts[layout];
    const read = layout === 'map' ? mapItem : doc;
    const q = trs.createQueue(emu.ctx, { friendlyName: `Gone-${layout}` });
    const task = sid('WT');
    trs.taskStep(emu.ctx, q.sid, task, 'entered', { channel: 'voice' });
    assert.equal((await post(rt, taskEvent('task-queue.entered', q, task))).status, 200);
    assert.ok(await read(q.sid), 'record written while the queue exists');

    trs.deleteQueue(emu.ctx, q.sid);
    await post(rt, queueEvent('task-queue.deleted', q));
    assert.equal(await read(q.sid), null);
    // TaskRouter delivers an older event late, to this container and to a fresh one.
    for (const late of [rt, rts.map2]) {
      if (layout === 'documents' && late === rts.map2) continue;
      const r = await post(late, taskEvent('task.canceled', q, task));
      assert.equal(r.status, 200);
      assert.equal(r.body.syncWrites, 0, JSON.stringify(r.body));
      assert.equal(await read(q.sid), null, 'no resurrected record');
    }
    if (layout === 'documents') assert.equal(await indexItem(q.sid), null);
  });
}

test('a record whose queue vanished without a deleted event is removed (Statistics 404 with a record)', async () => {
  const q = trs.createQueue(emu.ctx, { friendlyName: 'Vanished' });
  const task = sid('WT');
  trs.taskStep(emu.ctx, q.sid, task, 'entered', { channel: 'voice' });
  await post(rts.map, taskEvent('task-queue.entered', q, task));
  assert.ok(await mapItem(q.sid));
  trs.deleteQueue(emu.ctx, q.sid);
  const r = await post(rts.map2, taskEvent('task.canceled', q, task)); // a container that reads it from Sync
  assert.equal(r.body.plan.action, 'refresh');
  assert.equal(await mapItem(q.sid), null);
});

test('documents layout: a missing index entry is repaired', async () => {
  const q = trs.createQueue(emu.ctx, { friendlyName: 'Indexed' });
  const task = sid('WT');
  trs.taskStep(emu.ctx, q.sid, task, 'entered', { channel: 'voice' });
  // The index write of the first record fails; the record itself is written.
  emu.failNext({ method: 'POST', path: /\/Maps\/queueStats\.index\/Items/ }, { status: 500, times: 2 });
  const first = await post(rts.documents, taskEvent('task-queue.entered', q, task));
  assert.ok(first.body.errors.length > 0, 'the failure is reported');
  assert.ok(await doc(q.sid));
  assert.equal(await indexItem(q.sid), null, 'index entry missing');
  emu.clearFaults();
  trs.taskStep(emu.ctx, q.sid, task, 'canceled');
  await post(rts.documents, taskEvent('task.canceled', q, task));
  const entry = await indexItem(q.sid);
  assert.ok(entry, 'repaired by the next event');
  assert.deepEqual(entry.data, { sid: q.sid, friendlyName: 'Indexed', document: `queueStats.${q.sid}` });
});

test("a record changed by another container is corrected, not skipped on this container's memory", async () => {
  const q = trs.createQueue(emu.ctx, { friendlyName: 'Shared' });
  const task = sid('WT');
  trs.taskStep(emu.ctx, q.sid, task, 'entered', { channel: 'voice' });
  await post(rts.map, taskEvent('task-queue.entered', q, task));
  const good = (await mapItem(q.sid)).data;
  // Another writer (an older container, a manual fix) leaves something else in Sync.
  await svc()
    .syncMaps('queueStats')
    .syncMapItems(q.sid)
    .update({ data: { ...good, realTimeStats_all: { ...good.realTimeStats_all, totalTasks: 99 } } });
  const r = await post(rts.map, taskEvent('task-queue.entered', q, task));
  assert.equal(r.body.syncWrites, 1);
  assert.equal((await mapItem(q.sid)).data.realTimeStats_all.totalTasks, 1);
});
