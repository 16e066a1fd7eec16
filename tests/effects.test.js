// The effects executor (functions/common/effects, docs/effects.md) against the strict emulator,
// with the functions' own client: every operation of the set is a request Twilio's definitions
// declare (the emulator refuses anything else and fails this file), outcomes are Twilio's answers
// as they came, retries only where the effect allows them, the deadline, and the machine loop.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { startEmulator } = require('../emulator');
const { emulatorClient, sid, heldTask } = require('./helpers/emulator-client');
const trs = require('../emulator/taskrouter-stats');
const { wavBytes } = require('../emulator/recordings');

const common = path.join(__dirname, '..', 'functions', 'common');
global.Runtime = global.Runtime || {
  getFunctions: () => Object.fromEntries(['http', 'deadline', 'client', 'wasm', 'effects'].map((n) => [`common/${n}`, { path: path.join(common, `${n}.private.js`) }])),
  getAssets: () => ({}), // the wasm glue (requireEnv's alias table) then reads its module beside it
};
const effects = require('../functions/common/effects.private.js');
const tw = require('../functions/common/client.private.js');
const { runWithDeadline } = require('../functions/common/deadline.private.js');

let emu;
let context;
let client;
before(async () => {
  emu = await startEmulator({ port: 0 });
  // Short backoffs: the retries are counted, not timed.
  context = { ...emu.functionEnv(), TWILIO_SERVICE_MIN_BACKOFF: '1', TWILIO_SERVICE_MAX_BACKOFF: '5' };
  client = emulatorClient(emu);
});
after(() => emu.close());

// crates/effects' table (how each op is made, every kind), exported by the schedule_admin module.
const ops = require('../functions/common/wasm.private.js').shared('schedule_admin');
const effect = (op, extra = {}) => ({ op, call: ops.call((w) => w.opCall(op)), retry: op.kind !== 'createTask', ...extra });
const perform = (op, extra) => effects.perform(context, tw.twilioClient(context), effect(op, extra));
const done = async (op, extra) => {
  const outcome = await perform(op, extra);
  assert.equal(outcome.ok, true, `${op.kind}: ${JSON.stringify(outcome)}`);
  return outcome.value;
};

test('every operation of the set is performed as a declared request, with the resource as plain JSON', async () => {
  const serviceSid = context.SYNC_SERVICE_SID;
  const workspaceSid = context.WORKSPACE_SID;
  const map = 'Effects.Test';
  await done({ kind: 'createSyncMap', serviceSid, uniqueName: map });
  const created = await done({ kind: 'createSyncItem', serviceSid, map, key: 'k', data: { n: 1 }, ttl: 60 }, { pace: { object: `sync:${serviceSid}/map:${map}`, cost: 0.05 } });
  assert.deepEqual([created.key, created.data, typeof created.revision], ['k', { n: 1 }, 'string']);
  const read = await done({ kind: 'fetchSyncItem', serviceSid, map, key: 'k' });
  await done({ kind: 'createSyncItem', serviceSid, map, key: 'l', data: { n: 9 } });
  const listed = await done({ kind: 'listSyncItems', serviceSid, map, from: 'k', bounds: 'exclusive', order: 'asc', pageSize: 1, limit: 5 });
  assert.deepEqual(
    listed.map((i) => [i.key, i.data]),
    [['l', { n: 9 }]],
  );
  const updated = await done({ kind: 'updateSyncItem', serviceSid, map, key: 'k', data: { n: 2 }, ifMatch: read.revision });
  assert.deepEqual(updated.data, { n: 2 });
  assert.equal(await done({ kind: 'deleteSyncItem', serviceSid, map, key: 'k', ifMatch: updated.revision }), true);

  const doc = await done({ kind: 'createSyncDocument', serviceSid, uniqueName: 'effects-doc', data: { a: 1 }, ttl: 600 });
  const fetched = await done({ kind: 'fetchSyncDocument', serviceSid, document: 'effects-doc' });
  assert.equal(fetched.sid, doc.sid);
  await done({ kind: 'updateSyncDocument', serviceSid, document: doc.sid, data: { a: 2 }, ifMatch: fetched.revision });
  const docGrant = await done({ kind: 'updateSyncDocumentPermission', serviceSid, document: 'effects-doc', identity: 'board', read: true, write: false, manage: false });
  assert.deepEqual([docGrant.identity, docGrant.read, docGrant.write, docGrant.manage], ['board', true, false, false]);
  const mapGrant = await done({ kind: 'updateSyncMapPermission', serviceSid, map, identity: 'board', read: true, write: true, manage: false });
  assert.deepEqual([mapGrant.identity, mapGrant.read, mapGrant.write, mapGrant.manage], ['board', true, true, false]);
  assert.equal(await done({ kind: 'deleteSyncDocument', serviceSid, document: doc.sid }), true);

  const call = await client.calls.create({ to: '+15005550006', from: '+15005550001', twiml: '<Response><Pause/></Response>' });
  assert.equal((await done({ kind: 'fetchCall', callSid: call.sid })).status, call.status);
  await done({ kind: 'updateCall', callSid: call.sid, twiml: '<Response><Pause length="5"/></Response>', statusCallback: 'https://example.com/cb', statusCallbackMethod: 'POST' });
  await done({ kind: 'updateCall', callSid: call.sid, url: 'http://127.0.0.1:9/twiml', method: 'POST' });

  const worker = emu.makeToken({ identity: 'effects' }).worker_sid;
  const taskSid = await heldTask(emu, worker, call.sid);
  assert.equal((await done({ kind: 'fetchTask', workspaceSid, taskSid })).sid, taskSid);
  const reservations = await done({ kind: 'listTaskReservations', workspaceSid, taskSid, workerSid: worker, limit: 50 });
  assert.deepEqual(
    reservations.map((r) => r.workerSid),
    [worker],
  );
  const task = await done({ kind: 'createTask', workspaceSid, workflowSid: sid('WW'), taskChannel: 'voice', priority: 5, attributes: JSON.stringify({ effects: 'yes' }), timeout: 600 });
  const found = await done({ kind: 'listTasks', workspaceSid, evaluateTaskAttributes: 'effects == "yes"', limit: 20 });
  assert.deepEqual(
    found.map((t) => t.sid),
    [task.sid],
  );
  const everyone = await client.taskrouter.v1.workspaces(workspaceSid).taskQueues.create({ friendlyName: 'Effects all', targetWorkers: '1==1' });
  const nobody = await client.taskrouter.v1.workspaces(workspaceSid).taskQueues.create({ friendlyName: 'Effects none', targetWorkers: 'skill == "none"' });
  trs.addWorker(emu.ctx, everyone.sid, worker);
  const queues = await done({ kind: 'listTaskQueues', workspaceSid, pageSize: 1000, limit: 100 });
  assert.deepEqual(queues.map((q) => q.sid).sort(), [everyone.sid, nobody.sid].sort());
  // The filters reach Twilio.
  assert.deepEqual(
    (await done({ kind: 'listTaskQueues', workspaceSid, workerSid: worker, limit: 100 })).map((q) => q.sid),
    [everyone.sid],
  );
  assert.ok((await done({ kind: 'listWorkers', workspaceSid, pageSize: 1000, limit: 5000 })).some((w) => w.sid === worker));
  assert.deepEqual(await done({ kind: 'listWorkers', workspaceSid, taskQueueSid: nobody.sid, pageSize: 1000, limit: 5000 }), []);
  const activities = await done({ kind: 'listActivities', workspaceSid, pageSize: 1000, limit: 100 });
  assert.ok(
    activities.some((a) => a.friendlyName === 'Available'),
    JSON.stringify(activities.map((a) => a.friendlyName)),
  );
  await done({ kind: 'updateTask', workspaceSid, taskSid: task.sid, attributes: JSON.stringify({ effects: 'no' }), priority: 1 });
  trs.taskStep(emu.ctx, everyone.sid, 'WT-effects-stats', 'entered');
  const cumulative = await done({ kind: 'fetchTaskQueueCumulativeStatistics', workspaceSid, taskQueueSid: everyone.sid, minutes: 30, taskChannel: 'voice' });
  assert.equal(cumulative.tasksEntered, 1);
  const hour = new Date(Math.floor(Date.now() / 3600000) * 3600000);
  const windowed = await done({
    kind: 'fetchTaskQueueCumulativeStatistics',
    workspaceSid,
    taskQueueSid: nobody.sid,
    startDate: hour.toISOString(),
    endDate: new Date(+hour + 3600000).toISOString(),
    splitByWaitTime: '30,60',
  });
  assert.equal(windowed.tasksEntered, 0);
  const statistics = await done({ kind: 'listTaskQueueStatistics', workspaceSid, minutes: 30, pageSize: 1000 });
  assert.equal(statistics.find((r) => r.taskQueueSid === everyone.sid).cumulative.tasks_entered, 1);
  assert.deepEqual(await done({ kind: 'listTaskQueueStatistics', workspaceSid, minutes: 30, taskChannel: 'chat', limit: 1 }).then((l) => l.length), 1);
  assert.equal((await done({ kind: 'fetchTaskQueue', workspaceSid, taskQueueSid: everyone.sid })).friendlyName, 'Effects all');
  const today = await done({ kind: 'fetchTaskQueueStatistics', workspaceSid, taskQueueSid: everyone.sid, startDate: hour.toISOString(), splitByWaitTime: '30,60' });
  assert.equal(today.cumulative.tasks_entered, 1);
  assert.equal(today.realtime.total_tasks, 1);
  assert.equal((await done({ kind: 'fetchTaskQueueStatistics', workspaceSid, taskQueueSid: nobody.sid, taskChannel: 'chat' })).cumulative.tasks_entered, 0);
  const bulk = await done({ kind: 'createTaskQueueBulkRealTimeStatistics', workspaceSid, taskQueueSids: [everyone.sid, nobody.sid] });
  assert.deepEqual(bulk.taskQueueData.map((e) => e.task_queue_sid).sort(), [everyone.sid, nobody.sid].sort());
  trs.taskStep(emu.ctx, everyone.sid, 'WT-effects-stats', 'canceled');
  const since = new Date(Date.now() - 3600000).toISOString();
  const events = await done({
    kind: 'listEvents',
    workspaceSid,
    eventType: 'task.canceled',
    startDate: since,
    endDate: new Date(Date.now() + 60000).toISOString(),
    taskQueueSid: everyone.sid,
    pageSize: 1000,
  });
  assert.deepEqual(
    events.map((e) => [e.eventType, e.eventData.task_sid]),
    [['task.canceled', 'WT-effects-stats']],
  );
  const first = await done({ kind: 'listEventsPage', workspaceSid, startDate: since, pageSize: 1 });
  assert.equal(first.events.length, 1);
  assert.ok(first.next && first.next.pageToken, JSON.stringify(first.next));
  const second = await done({ kind: 'listEventsPage', workspaceSid, startDate: since, pageSize: 1, page: first.next.page, pageToken: first.next.pageToken });
  assert.equal(second.events.length, 1);
  assert.notEqual(second.events[0].sid, first.events[0].sid, 'the next page, not the first again');
  const voice = await client.taskrouter.v1.workspaces(workspaceSid).workers(worker).workerChannels('voice').fetch();
  const channel = await done({ kind: 'updateWorkerChannel', workspaceSid, workerSid: worker, workerChannelSid: voice.sid, capacity: 2 });
  assert.equal(channel.configuredCapacity, 2);
  const board = await done({ kind: 'fetchSyncService', serviceSid });
  assert.deepEqual([board.sid, typeof board.aclEnabled], [serviceSid, 'boolean']);

  // Serverless: the admin functions' update, publish and their reads (the service edits itself).
  const environmentSid = context.ENVIRONMENT_SID;
  const zs = context.SERVICE_SID;
  const service = await done({ kind: 'fetchServerlessService', serviceSid: zs, credentials: { username: context.ACCOUNT_SID, password: context.AUTH_TOKEN } });
  assert.equal(service.sid, zs);
  const refused = await perform({ kind: 'fetchServerlessService', serviceSid: zs, credentials: { username: context.ACCOUNT_SID, password: 'wrong' } });
  assert.deepEqual([refused.ok, refused.status], [false, 401], 'read with the credentials given');
  const asset = await done({ kind: 'createServerlessAsset', serviceSid: zs, friendlyName: 'effects-asset' });
  assert.ok((await done({ kind: 'listServerlessAssets', serviceSid: zs, pageSize: 100 })).some((a) => a.sid === asset.sid && a.friendlyName === 'effects-asset'));
  const version = await done({
    kind: 'uploadServerlessAssetVersion',
    serviceSid: zs,
    assetSid: asset.sid,
    path: '/effects.json',
    visibility: 'private',
    content: '{"a": 1}',
    contentType: 'application/json',
  });
  assert.deepEqual([version.path, version.visibility], ['/effects.json', 'private']);
  // The emulator's own endpoint (Twilio has none), read by crates/schedule-admin's running-config machine.
  assert.equal(await done({ kind: 'fetchEmulatorAssetContent', versionSid: version.sid }), '{"a": 1}', 'the text uploaded');
  const dependencies = JSON.stringify([{ name: 'twilio', version: '5.0.0' }]);
  const build = await done({ kind: 'createServerlessBuild', serviceSid: zs, functionVersions: [], assetVersions: [version.sid], dependencies, runtime: 'node22' });
  assert.equal((await done({ kind: 'fetchServerlessBuildStatus', serviceSid: zs, buildSid: build.sid })).status, 'building');
  emu.clock.advance(emu.ctx.state.serverless.buildMs + 1);
  const built = await done({ kind: 'fetchServerlessBuild', serviceSid: zs, buildSid: build.sid });
  assert.deepEqual([built.status, built.runtime, built.dependencies, built.assetVersions.map((v) => v.sid)], ['completed', 'node22', JSON.parse(dependencies), [version.sid]]);
  assert.ok((await done({ kind: 'listServerlessBuilds', serviceSid: zs, pageSize: 100 })).some((b) => b.sid === build.sid));
  const deployment = await done({ kind: 'createServerlessDeployment', serviceSid: zs, environmentSid, buildSid: build.sid });
  assert.equal((await done({ kind: 'fetchServerlessEnvironment', serviceSid: zs, environmentSid })).buildSid, build.sid);
  assert.deepEqual(
    (await done({ kind: 'listServerlessDeployments', serviceSid: zs, environmentSid, pageSize: 100 })).map((d) => d.sid),
    [deployment.sid],
  );
  const spare = await done({ kind: 'createServerlessBuild', serviceSid: zs, functionVersions: [], assetVersions: [version.sid] });
  assert.equal(await done({ kind: 'deleteServerlessBuild', serviceSid: zs, buildSid: spare.sid }), true);
  assert.equal((await perform({ kind: 'fetchServerlessBuildStatus', serviceSid: zs, buildSid: spare.sid })).status, 404);

  // IAM: a Flex token's verdict, IAM's JSON body as it came (crates/auth reads it).
  const flex = emu.makeToken({ identity: 'effects-iam', roles: ['admin'] });
  const verdict = await done({ kind: 'validateFlexToken', token: flex.token });
  assert.equal(verdict.status, 200);
  assert.deepEqual([verdict.body.valid, verdict.body.identity, verdict.body.worker_sid, verdict.body.roles], [true, 'effects-iam', flex.worker_sid, ['admin']]);
  assert.equal((await done({ kind: 'validateFlexToken', token: 'not-a-token' })).body.valid, false);

  // Workers (voicemail's greeting, direct-extension) and recordings (the voicemail box).
  const ada = await client.taskrouter.v1.workspaces(workspaceSid).workers.create({ friendlyName: 'effects-ada', attributes: JSON.stringify({ directExtension: '4321' }) });
  assert.equal((await done({ kind: 'fetchWorker', workspaceSid, workerSid: ada.sid })).friendlyName, 'effects-ada');
  const adaVoice = await done({ kind: 'fetchWorkerChannel', workspaceSid, workerSid: ada.sid, workerChannelSid: 'voice' });
  assert.deepEqual([adaVoice.taskChannelUniqueName, typeof adaVoice.configuredCapacity], ['voice', 'number']);
  assert.deepEqual(
    (await done({ kind: 'listWorkersMatching', workspaceSid, targetWorkersExpression: 'directExtension == "4321"', pageSize: 2, limit: 2 })).map((w) => w.sid),
    [ada.sid],
  );
  const recordingSid = sid('RE');
  emu.state.recordings.recordings.set(recordingSid, { sid: recordingSid, callSid: call.sid, duration: 1, dateCreated: new Date(), startTime: new Date() });
  const from = emu.requests.length;
  const media = await done({ kind: 'fetchRecordingMedia', recordingSid, format: 'wav' });
  assert.equal(media.contentType, 'audio/x-wav');
  assert.ok(Buffer.from(media.base64, 'base64').equals(wavBytes(1)), "the emulator's bytes");
  const mediaRequest = emu.requests.slice(from).find((r) => r.path.endsWith(`/Recordings/${recordingSid}.wav`));
  assert.ok(mediaRequest, 'the media request');
  assert.ok(!mediaRequest.path.includes(context.AUTH_TOKEN) && !JSON.stringify(mediaRequest.query || {}).includes(context.AUTH_TOKEN), 'no credentials in the URL');
  assert.equal(await done({ kind: 'deleteRecording', recordingSid }), true);
  assert.equal((await perform({ kind: 'fetchRecordingMedia', recordingSid, format: 'wav' })).status, 404);
  assert.equal((await perform({ kind: 'deleteRecording', recordingSid })).status, 404);

  const names = [...ops.call((w) => w.opKinds())].sort();
  assert.deepEqual(
    names,
    [
      'createServerlessAsset',
      'createServerlessBuild',
      'createServerlessDeployment',
      'createSyncDocument',
      'createSyncItem',
      'createSyncMap',
      'createTask',
      'deleteRecording',
      'deleteServerlessBuild',
      'deleteSyncDocument',
      'deleteSyncItem',
      'fetchCall',
      'fetchRecordingMedia',
      'fetchServerlessBuild',
      'fetchServerlessBuildStatus',
      'fetchServerlessEnvironment',
      'fetchServerlessService',
      'fetchSyncDocument',
      'fetchSyncItem',
      'fetchTask',
      'fetchTaskQueueCumulativeStatistics',
      'fetchTaskQueue',
      'fetchTaskQueueStatistics',
      'createTaskQueueBulkRealTimeStatistics',
      'fetchWorker',
      'fetchWorkerChannel',
      'listActivities',
      'listEvents',
      'listEventsPage',
      'listServerlessAssets',
      'listServerlessBuilds',
      'listServerlessDeployments',
      'listSyncItems',
      'listTaskQueueStatistics',
      'listTaskQueues',
      'listTaskReservations',
      'listTasks',
      'listWorkers',
      'listWorkersMatching',
      'updateCall',
      'updateSyncDocument',
      'updateSyncDocumentPermission',
      'updateSyncItem',
      'updateSyncMapPermission',
      'updateTask',
      'updateWorkerChannel',
      'uploadServerlessAssetVersion',
      'validateFlexToken',
      'fetchSyncService',
      'fetchEmulatorAssetContent',
    ].sort(),
    'each performed above',
  );
});

test("failures are Twilio's answers as they came; nothing is thrown", async () => {
  const serviceSid = context.SYNC_SERVICE_SID;
  const missing = await perform({ kind: 'fetchSyncItem', serviceSid, map: 'Effects.None', key: 'k' });
  assert.deepEqual([missing.ok, missing.attempted, missing.status, typeof missing.code, typeof missing.message], [false, true, 404, 'number', 'string']);
  await done({ kind: 'createSyncMap', serviceSid, uniqueName: 'Effects.Race' });
  await done({ kind: 'createSyncItem', serviceSid, map: 'Effects.Race', key: 'k', data: {} });
  const exists = await perform({ kind: 'createSyncItem', serviceSid, map: 'Effects.Race', key: 'k', data: {} });
  assert.deepEqual([exists.status, exists.code], [409, 54208]);
  const stale = await perform({ kind: 'updateSyncItem', serviceSid, map: 'Effects.Race', key: 'k', data: { x: 1 }, ifMatch: '99' });
  assert.equal(stale.status, 412);
  const unknown = await effects.perform(context, tw.twilioClient(context), { op: { kind: 'sendFax' }, retry: true });
  assert.deepEqual([unknown.ok, unknown.attempted], [false, false]);
});

test('with text: true, run hands resume the outcomes as one JSON text equal to the plain outcomes', async () => {
  const serviceSid = context.SYNC_SERVICE_SID;
  await done({ kind: 'createSyncMap', serviceSid, uniqueName: 'Effects.Text' });
  await done({ kind: 'createSyncItem', serviceSid, map: 'Effects.Text', key: 'a', data: { n: 1, s: 'quote " and \\ and é' } });
  const list = { kind: 'listSyncItems', serviceSid, map: 'Effects.Text', order: 'asc', pageSize: 10, limit: 10 };
  const missing = { kind: 'fetchSyncItem', serviceSid, map: 'Effects.None', key: 'x' };
  const given = [];
  const machine = {
    startIt: () => ({ state: 's', run: [effect(list), effect(missing)] }),
    resume: (state, outcomes) => {
      given.push(outcomes);
      return { answer: { status: 200, body: {} } };
    },
  };
  await effects.run(context, { call: (fn) => fn(machine) }, (wasm) => wasm.startIt(), { text: true });
  await effects.run(context, { call: (fn) => fn(machine) }, (wasm) => wasm.startIt());
  assert.equal(typeof given[0], 'string');
  const [fromText, plain] = [JSON.parse(given[0]), given[1]];
  assert.deepEqual(fromText, plain);
  assert.deepEqual(
    fromText[0].value.map((i) => [i.key, i.data]),
    [['a', { n: 1, s: 'quote " and \\ and é' }]],
  );
  assert.deepEqual([fromText[1].ok, fromText[1].status], [false, 404]);
});

test('a 429 is repeated only for an effect that allows it', async () => {
  const serviceSid = context.SYNC_SERVICE_SID;
  await done({ kind: 'createSyncMap', serviceSid, uniqueName: 'Effects.Retry' });
  const op = { kind: 'createSyncItem', serviceSid, map: 'Effects.Retry', key: 'a', data: {} };
  const from = emu.requests.length;
  emu.failNext({ method: 'POST', path: /Effects\.Retry\/Items$/ }, { status: 429 });
  await done(op);
  assert.deepEqual(
    emu.requests.slice(from).map((r) => r.status),
    [429, 201],
  );

  const once = emu.requests.length;
  emu.failNext({ method: 'POST', path: /Effects\.Retry\/Items$/ }, { status: 429 });
  const refused = await perform({ ...op, key: 'b' }, { retry: false });
  assert.deepEqual([refused.ok, refused.status, refused.code], [false, 429, 20429]);
  assert.deepEqual(
    emu.requests.slice(once).map((r) => r.status),
    [429],
    'not repeated',
  );
});

test("a 503 is repeated too, a 500 never; IAM's 429/503 are repeated and any other answer is its verdict", async () => {
  const serviceSid = context.SYNC_SERVICE_SID;
  await done({ kind: 'createSyncMap', serviceSid, uniqueName: 'Effects.Retry503' });
  const op = { kind: 'createSyncItem', serviceSid, map: 'Effects.Retry503', key: 'a', data: {} };
  let from = emu.requests.length;
  emu.failNext({ method: 'POST', path: /Effects\.Retry503\/Items$/ }, { status: 503 });
  await done(op);
  assert.deepEqual(
    emu.requests.slice(from).map((r) => r.status),
    [503, 201],
  );
  from = emu.requests.length;
  emu.failNext({ method: 'POST', path: /Effects\.Retry503\/Items$/ }, { status: 500 });
  const failed = await perform({ ...op, key: 'b' });
  assert.deepEqual([failed.ok, failed.attempted, failed.status], [false, true, 500]);
  assert.equal(emu.requests.length - from, 1, 'a 500 is not repeated');

  const token = emu.makeToken({ identity: 'ivy', roles: ['agent'] }).token;
  from = emu.requests.length;
  emu.failNext({ method: 'POST', path: /\/Tokens\/validate$/ }, { status: 503 });
  const verdict = await done({ kind: 'validateFlexToken', token });
  assert.equal(verdict.status, 200);
  assert.equal(emu.requests.length - from, 2, 'the 503 was repeated');
  emu.failNext({ method: 'POST', path: /\/Tokens\/validate$/ }, { status: 401, code: 20003, message: 'Authenticate' });
  const refused = await done({ kind: 'validateFlexToken', token });
  assert.deepEqual([refused.status, refused.body && refused.body.code], [401, 20003]);
});

test('a delayed effect is sent that much later, or not at all when the wait would pass the deadline', async () => {
  const op = { kind: 'fetchServerlessEnvironment', serviceSid: context.SERVICE_SID, environmentSid: context.ENVIRONMENT_SID };
  const from = emu.requests.length;
  await runWithDeadline({}, () => done(op, { delayMs: 200 }));
  assert.equal(emu.requests.length, from + 1);
  const late = await runWithDeadline({ FUNCTION_BUDGET_MS: '2000' }, () => perform(op, { delayMs: 5000 }));
  assert.deepEqual([late.ok, late.attempted], [false, false]);
  assert.equal(emu.requests.length, from + 1, 'nothing was sent');
});

test('a request that cannot start before the deadline is not attempted', async () => {
  const from = emu.requests.length;
  const outcome = await runWithDeadline({ FUNCTION_BUDGET_MS: '1' }, () => perform({ kind: 'fetchCall', callSid: sid('CA') }));
  assert.deepEqual([outcome.ok, outcome.attempted, outcome.status], [false, false, undefined]);
  assert.equal(emu.requests.length, from, 'nothing was sent');
});

test('run performs each batch at once and resumes the machine with the outcomes in order, until it answers', async () => {
  const serviceSid = context.SYNC_SERVICE_SID;
  const seen = [];
  const machine = {
    startIt: () => ({
      state: { step: 1 },
      run: [effect({ kind: 'fetchSyncItem', serviceSid, map: 'Effects.None', key: 'x' }), effect({ kind: 'createSyncMap', serviceSid, uniqueName: 'Effects.Run' })],
    }),
    resume: (state, outcomes, now) => {
      seen.push({ state, outcomes: outcomes.map((o) => [o.ok, o.status || (o.value && o.value.uniqueName)]), now: typeof now });
      return { answer: { status: 201, body: { done: true } } };
    },
  };
  const mod = { call: (fn) => fn(machine) };
  const answer = await effects.run(context, mod, (wasm) => wasm.startIt());
  assert.deepEqual(answer, { status: 201, body: { done: true } });
  assert.deepEqual(seen, [
    {
      state: { step: 1 },
      outcomes: [
        [false, 404],
        [true, 'Effects.Run'],
      ],
      now: 'number',
    },
  ]);
  // A machine that answers at once makes no request.
  const from = emu.requests.length;
  assert.deepEqual(await effects.run(context, { call: (fn) => fn({ s: () => ({ answer: { status: 200, body: 'x', contentType: 'text/xml' } }) }) }, (w) => w.s()), {
    status: 200,
    body: 'x',
    contentType: 'text/xml',
  });
  assert.equal(emu.requests.length, from);
});
