// direct-extension through the real runtime and the emulator with the real twilio client: a valid
// and an invalid extension, an extension shared by two workers, offline and at-capacity agents,
// bad parameters, and at most one TaskRouter request per call (counted in the emulator's log).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const { startRuntime } = require('./helpers/runtime');
const { emulatorClient, postForm } = require('./helpers/emulator-client');

let emu;
let rt;
let workers;
before(async () => {
  emu = await startEmulator({ port: 0 });
  // A cache longer than the test, so which read each call makes does not depend on the machine's speed.
  rt = await startRuntime({ env: { ...emu.functionEnv(), DIRECT_EXTENSION_CACHE_SECONDS: '60' } });
  workers = emulatorClient(emu).taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID).workers;
});
after(async () => {
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
});

async function agent(friendlyName, attributes, activity = 'Available') {
  const w = await workers.create({ friendlyName, attributes: JSON.stringify(attributes) });
  const res = await fetch(`${emu.origin}/emulator/workers/${w.sid}/activity`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ activity }) });
  assert.equal(res.status, 200);
  return w.sid;
}

/** The function's answer and the TaskRouter requests it made. */
async function ask(extension) {
  const from = emu.requests.length;
  const res = await postForm(rt.url('/direct-extension'), extension === undefined ? {} : { extension });
  const calls = emu.requests.slice(from).filter((r) => r.product === 'taskrouter');
  return { ...res, calls };
}

test('a valid extension: the worker, by one worker-list request; then its voice channel; then nothing', async () => {
  const sid = await agent('ada@example.com', { directExtension: '1234', full_name: 'Ada Lovelace' });
  const first = await ask('1234');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(
    {
      valid: first.body.valid,
      available: first.body.available,
      reason: first.body.reason,
      workerSid: first.body.workerSid,
      workerName: first.body.workerName,
      capacityChecked: first.body.capacityChecked,
    },
    { valid: true, available: true, reason: null, workerSid: sid, workerName: 'Ada Lovelace', capacityChecked: false },
  );
  assert.equal(first.calls.length, 1, 'one TaskRouter request');
  assert.equal(first.calls[0].path, `/v1/Workspaces/${emu.functionEnv().WORKSPACE_SID}/Workers`);
  assert.equal(first.calls[0].query.TargetWorkersExpression, 'directExtension == "1234"');

  const second = await ask(' 1234 ');
  assert.equal(second.calls.length, 1, 'one TaskRouter request');
  assert.match(second.calls[0].path, new RegExp(`/Workers/${sid}/Channels/voice$`));
  assert.equal(second.body.capacityChecked, true);
  assert.equal(second.body.available, true);

  const third = await ask('1234');
  assert.equal(third.calls.length, 0, 'answered from the container');
  assert.equal(third.body.available, true);
});

test('an invalid extension: nobody has it (valid false), and bad digits are 400s naming the parameter without a TaskRouter request', async () => {
  const none = await ask('9999');
  assert.equal(none.status, 200);
  assert.deepEqual([none.body.valid, none.body.available, none.body.reason, none.body.workerSid, none.body.workerName], [false, false, 'not_found', null, null]);
  assert.equal(none.calls.length, 1);
  for (const [value, code] of [
    [undefined, 'missing_extension'],
    ['', 'missing_extension'],
    ['12a4', 'invalid_extension'],
    ['12#', 'invalid_extension'],
    ['12345678901', 'extension_too_long'],
  ]) {
    const r = await ask(value);
    assert.equal(r.status, 400, `${JSON.stringify(value)}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, code);
    assert.equal(r.body.parameter, 'extension');
    assert.match(r.body.error, /extension/);
    assert.equal(r.calls.length, 0);
  }
});

test('an extension shared by two workers is reported, naming nobody', async () => {
  await agent('b1@example.com', { directExtension: '5555' });
  await agent('b2@example.com', { directExtension: '5555' });
  const r = await ask('5555');
  assert.equal(r.status, 200);
  assert.deepEqual([r.body.valid, r.body.available, r.body.reason, r.body.workerSid, r.body.workerName], [false, false, 'shared_extension', null, null]);
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0].query.PageSize, '2', 'two rows are enough to see a shared extension');
});

test('offline, and on a call at voice capacity', async () => {
  await agent('c@example.com', { directExtension: '7001', full_name: 'Cy' }, 'Offline');
  const off = await ask('7001');
  assert.deepEqual([off.body.valid, off.body.available, off.body.reason, off.body.activityName], [true, false, 'offline', 'Offline']);

  const busy = await agent('d@example.com', { directExtension: '7002', full_name: 'Di' });
  const task = await fetch(`${emu.origin}/emulator/taskrouter/tasks`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ workerSid: busy, attributes: '{}' }) });
  assert.equal(task.status, 201);
  const first = await ask('7002');
  assert.equal(first.body.available, true, 'the first call knows the activity only');
  const second = await ask('7002');
  assert.equal(second.calls.length, 1);
  assert.deepEqual([second.body.valid, second.body.available, second.body.reason, second.body.capacityChecked], [true, false, 'at_capacity', true]);
});

test('the emulator refuses a worker expression it cannot evaluate', async () => {
  await assert.rejects(workers.list({ targetWorkersExpression: 'directExtension HAS "1"' }), (err) => err.status === 400 && /TargetWorkersExpression/.test(err.message));
  const both = await workers.list({ targetWorkersExpression: 'directExtension IN ["1234", "7001"] AND activity_name == "Available"' });
  assert.deepEqual(
    both.map((w) => w.friendlyName),
    ['ada@example.com'],
  );
});

test("the emulator's workflow offers a direct call to its worker only, when they can take it", async () => {
  const tasks = emulatorClient(emu).taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID).tasks;
  const free = await agent('e@example.com', { directExtension: '7003' });
  const away = await agent('f@example.com', { directExtension: '7004' }, 'Offline');
  const create = (workerSid) =>
    tasks.create({ workflowSid: 'WW' + 'b'.repeat(32), taskChannel: 'voice', attributes: JSON.stringify({ type: 'inbound', directCall: { extension: '7003', workerSid, workerName: 'E' } }) });
  const offered = await create(free);
  assert.equal(offered.assignmentStatus, 'reserved');
  assert.deepEqual(
    (await tasks(offered.sid).reservations.list()).map((r) => [r.workerSid, r.reservationStatus]),
    [[free, 'pending']],
  );
  const waiting = await create(away);
  assert.equal(waiting.assignmentStatus, 'pending');
  assert.deepEqual(await tasks(waiting.sid).reservations.list(), []);
});

test('a worker deleted after the lookup: the channel read finds nobody, and the extension is not found', async () => {
  const gone = await agent('g@example.com', { directExtension: '7005' });
  assert.equal((await ask('7005')).body.valid, true);
  emu.state.taskrouter.workspace.workers.delete(gone); // as a DELETE of the worker would
  const r = await ask('7005');
  assert.equal(r.calls.length, 1);
  assert.match(r.calls[0].path, /Channels\/voice$/);
  assert.deepEqual([r.status, r.body.valid, r.body.reason], [200, false, 'not_found']);
});
