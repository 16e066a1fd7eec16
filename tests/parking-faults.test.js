// End to end, through twilio-run, the emulator and the real `twilio` client: who may park and pick
// up whose calls, pickups decided by the Sync record, large attributes, and the wrap-up staying
// exactly-once under the faults of docs/call-parking.md's fault matrix. Run `npm run build` first.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('./helpers/runtime');
const { startEmulator } = require('../emulator');
const { emulatorClient, postForm, sid, heldTask } = require('./helpers/emulator-client');

let emu;
let rt;
let client;
let supervisor;

before(async () => {
  emu = await startEmulator({ port: 0 });
  client = emulatorClient(emu);
  rt = await startRuntime({ env: emu.functionEnv() });
  supervisor = emu.makeToken({ identity: 'sam', roles: ['agent', 'supervisor'] }).token;
});

after(async () => {
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
});

const env = () => emu.functionEnv();
const sync = () => client.sync.v1.services(env().SYNC_SERVICE_SID);
const liveCall = async () => (await client.calls.create({ to: '+15005550006', from: '+15005550001', twiml: '<Response><Pause/></Response>' })).sid;
const fetchItem = async (map, key) => {
  try {
    return await sync().syncMaps(map).syncMapItems(key).fetch();
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
};
const tasksFor = async (callSid) => (await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).tasks.list()).filter((t) => JSON.parse(t.attributes).call_sid === callSid);
const agent = (identity) => emu.makeToken({ identity, roles: ['agent'] });
const writesSince = (from) => emu.requests.slice(from).filter((r) => r.product !== 'iam' && r.method !== 'GET');
const callPosts = (callSid, from = 0) => emu.requests.slice(from).filter((r) => r.method === 'POST' && r.path.endsWith(`/Calls/${callSid}.json`));
const end = (callSid, CallStatus = 'completed') => postForm(`${emu.origin}/emulator/calls/${callSid}/status`, { CallStatus });

function parkForm(Token, callSid, workerSid, attributes = { name: 'Ada', conversations: { conversation_id: 'WTabc' } }, taskSid = sid('WT')) {
  return { Token, attributes: JSON.stringify(attributes), callSid, name: 'Ada', queueName: 'Support', taskSid, workerSid, workflowSid: 'WW' + 'b'.repeat(32) };
}
// A park request whose task is really the worker's (assigned to them) and carries the call.
const heldForm = async (Token, callSid, workerSid, attributes) => parkForm(Token, callSid, workerSid, attributes, await heldTask(emu, workerSid, callSid));

async function park(Token, callSid, workerSid, attributes) {
  const res = await postForm(rt.url('/park-call'), await heldForm(Token, callSid, workerSid, attributes));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.parkedCall;
}

const pickup = (Token, callSid, extra = {}) => postForm(rt.url('/pickup-parked-call'), { Token, callSid, ...extra });

describe('authorization', () => {
  test("an agent's token on another worker's park, pickup or capacity is a 403 naming both workers, and nothing is written", async () => {
    const alice = agent('alice-7');
    const bob = agent('bob-7');
    const callSid = await liveCall();
    const from = emu.requests.length;
    const parked = await postForm(rt.url('/park-call'), parkForm(alice.token, callSid, bob.worker_sid));
    assert.deepEqual([parked.status, parked.body.code], [403, 'wrong_worker']);
    assert.ok(parked.body.error.includes(alice.worker_sid) && parked.body.error.includes(bob.worker_sid), parked.body.error);
    const voice = await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).workers(bob.worker_sid).workerChannels('voice').fetch();
    const capacity = await postForm(rt.url('/worker-capacity'), { Token: alice.token, capacity: '0', workerChannelSid: voice.sid, workerSid: bob.worker_sid });
    assert.deepEqual([capacity.status, capacity.body.code], [403, 'wrong_worker']);
    assert.deepEqual(writesSince(from), [], 'no Twilio write');

    await park(bob.token, callSid, bob.worker_sid);
    const before = await fetchItem('Global.ParkedCalls', callSid);
    const mark = emu.requests.length;
    // Alice claims the call is hers in every field the plugin sends: the record says it is Bob's.
    const res = await pickup(alice.token, callSid, { workerSid: alice.worker_sid, attributes: '{}', workflowSid: sid('WW'), dateCreated: new Date().toISOString(), name: 'x', queueName: 'y' });
    assert.deepEqual([res.status, res.body.code], [403, 'wrong_worker'], JSON.stringify(res.body));
    assert.ok(res.body.error.includes(alice.worker_sid) && res.body.error.includes(bob.worker_sid));
    assert.deepEqual(writesSince(mark), [], 'no Twilio write');
    assert.deepEqual((await fetchItem('Global.ParkedCalls', callSid)).revision, before.revision);
    assert.equal(voice.configuredCapacity, (await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).workers(bob.worker_sid).workerChannels('voice').fetch()).configuredCapacity);
  });

  test("a supervisor's token may park, pick up and set capacity for another worker", async () => {
    const bob = agent('bob-7b');
    const callSid = await liveCall();
    await park(supervisor, callSid, bob.worker_sid);
    const res = await pickup(supervisor, callSid);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.taskAttributes.targetWorker, bob.worker_sid, 'the pickup task goes to the parking worker');
    const voice = await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).workers(bob.worker_sid).workerChannels('voice').fetch();
    const capacity = await postForm(rt.url('/worker-capacity'), { Token: supervisor, capacity: '2', workerChannelSid: voice.sid, workerSid: bob.worker_sid });
    assert.deepEqual([capacity.status, capacity.body.configuredCapacity], [200, 2]);
  });

  test('an agent picks up their own parked call', async () => {
    const carol = agent('carol-7');
    const callSid = await liveCall();
    await park(carol.token, callSid, carol.worker_sid);
    const res = await pickup(carol.token, callSid);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});

describe("park is bound to the worker's own call", () => {
  const parkWith = (Token, callSid, workerSid, taskSid) => postForm(rt.url('/park-call'), parkForm(Token, callSid, workerSid, undefined, taskSid));
  // Everything a refused park must leave as it was: no Twilio write, the call's TwiML, the entries.
  async function unchanged(callSid, workerSids, run) {
    const before = await Promise.all(['Global.ParkedCalls', ...workerSids.map((w) => `${w}.ParkedCalls`)].map((m) => fetchItem(m, callSid)));
    const twiml = emu.state.calls.calls.get(callSid).twiml;
    const mark = emu.requests.length;
    const res = await run();
    assert.deepEqual(writesSince(mark), [], 'no Twilio write');
    assert.equal(emu.state.calls.calls.get(callSid).twiml, twiml, 'the call is untouched');
    const after = await Promise.all(['Global.ParkedCalls', ...workerSids.map((w) => `${w}.ParkedCalls`)].map((m) => fetchItem(m, callSid)));
    assert.deepEqual(
      after.map((i) => i && [i.revision, i.data]),
      before.map((i) => i && [i.revision, i.data]),
      'Sync is as it was',
    );
    return res;
  }

  test("the takeover: Bob can neither pick up nor re-park Alice's parked caller, and Alice still picks them up", async () => {
    const alice = agent('alice-13');
    const bob = agent('bob-13');
    const callSid = await liveCall();
    // An inbound Flex task: TaskRouter put the caller's call SID in `call_sid`.
    const alicesTask = await heldTask(emu, alice.worker_sid, callSid, { attributes: { call_sid: callSid, from: '+15005550001' } });
    const parked = await parkWith(alice.token, callSid, alice.worker_sid, alicesTask);
    assert.equal(parked.status, 200, JSON.stringify(parked.body));

    const pick = await unchanged(callSid, [alice.worker_sid, bob.worker_sid], () => pickup(bob.token, callSid));
    assert.deepEqual([pick.status, pick.body.code], [403, 'wrong_worker']);

    // Bob names Alice's task with his own worker: the task is not his.
    const stolen = await unchanged(callSid, [alice.worker_sid, bob.worker_sid], () => parkWith(bob.token, callSid, bob.worker_sid, alicesTask));
    assert.deepEqual([stolen.status, stolen.body.code, stolen.body.parameter], [403, 'not_workers_task', 'taskSid'], JSON.stringify(stolen.body));
    assert.ok(stolen.body.error.includes(bob.worker_sid) && stolen.body.error.includes(alicesTask), stolen.body.error);

    // Bob names a task of his own that carries another call.
    const bobsTask = await heldTask(emu, bob.worker_sid, await liveCall());
    const wrongCall = await unchanged(callSid, [alice.worker_sid, bob.worker_sid], () => parkWith(bob.token, callSid, bob.worker_sid, bobsTask));
    assert.deepEqual([wrongCall.status, wrongCall.body.code, wrongCall.body.parameter], [403, 'call_not_on_task', 'callSid'], JSON.stringify(wrongCall.body));

    // Bob still holds (in wrap-up) a task that carried the caller before it reached Alice: the call
    // is Alice's parked call, so it is refused naming both workers.
    const bobsOldTask = await heldTask(emu, bob.worker_sid, callSid, { status: 'wrapping', attributes: { call_sid: callSid } });
    const taken = await unchanged(callSid, [alice.worker_sid, bob.worker_sid], () => parkWith(bob.token, callSid, bob.worker_sid, bobsOldTask));
    assert.deepEqual([taken.status, taken.body.code, taken.body.parameter], [403, 'parked_by_other', 'callSid'], JSON.stringify(taken.body));
    assert.ok(taken.body.error.includes(alice.worker_sid) && taken.body.error.includes(bob.worker_sid), taken.body.error);

    // A supervisor acting for Bob is bound to Bob's calls too.
    const supervised = await unchanged(callSid, [alice.worker_sid, bob.worker_sid], () => parkWith(supervisor, callSid, bob.worker_sid, alicesTask));
    assert.deepEqual([supervised.status, supervised.body.code], [403, 'not_workers_task']);

    assert.equal((await fetchItem('Global.ParkedCalls', callSid)).data.workerSid, alice.worker_sid);
    assert.equal(await fetchItem(`${bob.worker_sid}.ParkedCalls`, callSid), null);
    const mine = await pickup(alice.token, callSid);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.taskAttributes.targetWorker, alice.worker_sid, "Alice's caller goes back to Alice");
  });

  test('a task that does not exist, is not assigned yet, or is over is refused before any write', async () => {
    const dana = agent('dana-13');
    const callSid = await liveCall();
    const missing = await unchanged(callSid, [dana.worker_sid], () => parkWith(dana.token, callSid, dana.worker_sid, sid('WT')));
    assert.deepEqual([missing.status, missing.body.code, missing.body.parameter], [404, 'task_not_found', 'taskSid'], JSON.stringify(missing.body));
    for (const status of ['pending', 'completed', 'rejected']) {
      const taskSid = await heldTask(emu, dana.worker_sid, callSid, { status });
      const res = await unchanged(callSid, [dana.worker_sid], () => parkWith(dana.token, callSid, dana.worker_sid, taskSid));
      assert.deepEqual([res.status, res.body.code], [403, 'not_workers_task'], `${status}: ${JSON.stringify(res.body)}`);
    }
    // TaskRouter failing to answer whose task it is: 502, nothing written.
    const held = await heldTask(emu, dana.worker_sid, callSid);
    emu.failNext({ method: 'GET', path: `/Tasks/${held}/Reservations` }, { status: 500, message: 'boom' });
    const failed = await unchanged(callSid, [dana.worker_sid], () => parkWith(dana.token, callSid, dana.worker_sid, held));
    assert.equal(failed.status, 502, JSON.stringify(failed.body));
    assert.match(failed.body.error, new RegExp(`task ${held}.*boom`));
    // In wrap-up, the worker's own call parks (an outbound task: the call is the conference's customer).
    const wrapping = await heldTask(emu, dana.worker_sid, callSid, { status: 'wrapping' });
    const ok = await parkWith(dana.token, callSid, dana.worker_sid, wrapping);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('park asks TaskRouter two questions: the task and its reservations for the worker', async () => {
    const erin = agent('erin-13');
    const callSid = await liveCall();
    const taskSid = await heldTask(emu, erin.worker_sid, callSid);
    const mark = emu.requests.length;
    const res = await parkWith(erin.token, callSid, erin.worker_sid, taskSid);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const asked = emu.requests.slice(mark).filter((r) => r.product === 'taskrouter');
    assert.deepEqual(asked.map((r) => `${r.method} ${r.path.replace(/^.*\/Tasks/, '/Tasks')}`).sort(), [`GET /Tasks/${taskSid}`, `GET /Tasks/${taskSid}/Reservations`]);
    assert.equal(asked.find((r) => r.path.endsWith('/Reservations')).query.WorkerSid, erin.worker_sid);
  });
});

describe('pickup trusts the Sync record', () => {
  test('a call that is not parked is a 404 not_parked and no call is updated', async () => {
    const callSid = await liveCall();
    const from = emu.requests.length;
    const res = await pickup(supervisor, callSid, { attributes: '{}', workerSid: sid('WK'), workflowSid: sid('WW') });
    assert.deepEqual([res.status, res.body.code, res.body.parameter], [404, 'not_parked', 'callSid']);
    assert.deepEqual(callPosts(callSid, from), []);
    assert.deepEqual(writesSince(from), []);
  });

  test("forged attributes, workflow and parking time are ignored: the record's are used", async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    const record = await park(supervisor, callSid, workerSid, { name: 'Real', vip: false });
    const forged = {
      attributes: JSON.stringify({ name: 'Forged', vip: true, targetWorker: sid('WK') }),
      workflowSid: sid('WW'),
      workerSid: sid('WK'),
      dateCreated: '2000-01-01T00:00:00Z',
      name: 'F',
      queueName: 'F',
    };
    const res = await pickup(supervisor, callSid, forged);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.taskAttributes.name, 'Real');
    assert.equal(res.body.taskAttributes.vip, false);
    assert.equal(res.body.taskAttributes.targetWorker, workerSid);
    assert.ok(res.body.holdTime < 60, `hold time from the record, not 2000: ${res.body.holdTime}`);
    const twiml = emu.state.calls.calls.get(callSid).twiml;
    assert.ok(twiml.includes(`workflowSid="${record.workflowSid}"`), twiml);
    assert.ok(!twiml.includes('Forged'));
  });

  test('12 KiB of attributes park and pick up (the TwiML comes from pickup-twiml by Url)', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    const attributes = { name: 'Big <&> "caller"', notes: 'n'.repeat(12 * 1024), conversations: { conversation_id: 'WTbig' } };
    await park(supervisor, callSid, workerSid, attributes);
    const res = await pickup(supervisor, callSid);
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
    const call = emu.state.calls.calls.get(callSid);
    assert.equal(call.url, `https://localhost:${rt.port}/pickup-twiml`);
    for (let i = 0; i < 100 && call.urlTwiml === null; i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal(call.urlFetch.status, 200, JSON.stringify(call.urlFetch));
    const m = /<Enqueue workflowSid="(WW[b]{32})"><Task priority="1000">([^<]*)<\/Task><\/Enqueue><\/Response>$/.exec(call.urlTwiml);
    assert.ok(m, call.urlTwiml.slice(0, 200));
    const unescape = (t) =>
      t
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
    const task = JSON.parse(unescape(m[2]));
    assert.equal(task.notes, attributes.notes);
    assert.equal(task.name, attributes.name);
    assert.equal(task.targetWorker, workerSid);
    assert.ok(m[0].length > 4000, 'longer than a call update may carry');
    // Sync allows a 12 KiB object about 2 writes/s (park, then the pickup mark): the unlisting may be
    // throttled past the retries. Then the answer says so and the entry stays marked picked up, so
    // the call's end creates no task (the fault matrix's "delete fails" row).
    const left = await fetchItem('Global.ParkedCalls', callSid);
    if (left !== null) {
      assert.match(String(res.body.warnings), /Global\.ParkedCalls/, JSON.stringify(res.body.warnings));
      assert.ok(left.data.pickedUp, 'a Global entry left behind is marked picked up');
    }
  });
});

describe('wrap-up exactly once', () => {
  test("a Sync 500 after the task was created, then Twilio's redelivery: one task", async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    await park(supervisor, callSid, workerSid);
    emu.failNext({ method: 'POST', path: `/Maps/${workerSid}.ParkedCalls/Items` }, { status: 500 });
    const { body } = await end(callSid);
    const attempts = body.deliveries[0].attempts;
    assert.deepEqual(
      attempts.map((a) => a.status),
      [503, 200],
      JSON.stringify(attempts),
    );
    assert.equal(JSON.parse(attempts[1].body).handled, true);
    assert.equal((await tasksFor(callSid)).length, 1);
    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
    assert.equal((await fetchItem(`${workerSid}.ParkedCalls`, callSid)).data.callerHangup, true);
  });

  test('a claim applied but its answer lost: one task', async () => {
    const callSid = await liveCall();
    await park(supervisor, callSid, sid('WK'));
    emu.failNext({ method: 'POST', path: `/Maps/Global.ParkedCalls/Items/${callSid}` }, { status: 500, applied: true });
    const { body } = await end(callSid);
    assert.deepEqual(
      body.deliveries[0].attempts.map((a) => a.status),
      [200],
    );
    assert.equal(JSON.parse(body.deliveries[0].body).handled, true, body.deliveries[0].body);
    assert.equal((await tasksFor(callSid)).length, 1);
  });

  test('task creation that timed out after TaskRouter created it: one task', async () => {
    const callSid = await liveCall();
    await park(supervisor, callSid, sid('WK'));
    emu.failNext({ method: 'POST', path: /\/Tasks$/ }, { timeout: true, applied: true, holdMs: 8000 });
    const { body } = await end(callSid);
    const answer = JSON.parse(body.deliveries[0].body);
    assert.equal(answer.handled, true, body.deliveries[0].body);
    const tasks = await tasksFor(callSid);
    assert.equal(tasks.length, 1);
    assert.equal(answer.taskSid, tasks[0].sid, 'the task found by EvaluateTaskAttributes');
  });

  test('a pickup whose Sync delete fails: no wrap-up task when the call later ends', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    await park(supervisor, callSid, workerSid);
    emu.failNext({ method: 'DELETE', path: `/Maps/Global.ParkedCalls/Items/${callSid}` }, { status: 500 });
    const res = await pickup(supervisor, callSid);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.warnings[0], /Global\.ParkedCalls/);
    assert.ok((await fetchItem('Global.ParkedCalls', callSid)).data.pickedUp, 'left behind, marked');
    const { body } = await end(callSid);
    assert.equal(JSON.parse(body.deliveries[0].body).reason, 'picked_up');
    assert.equal((await tasksFor(callSid)).length, 0);
  });

  test('pickup of a call that already ended (21220): entries gone, one wrap-up task', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    await park(supervisor, callSid, workerSid);
    await client.calls(callSid).update({ status: 'completed' }); // ended; its callback was missed
    const res = await pickup(supervisor, callSid);
    assert.deepEqual([res.status, res.body.code], [410, 'call_ended'], JSON.stringify(res.body));
    const tasks = await tasksFor(callSid);
    assert.equal(tasks.length, 1);
    assert.equal(res.body.wrapUp.taskSid, tasks[0].sid);
    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
    assert.equal((await fetchItem(`${workerSid}.ParkedCalls`, callSid)).data.callerHangup, true);
    const again = await pickup(supervisor, callSid);
    assert.equal(again.status, 404);
  });

  test('a caller hanging up while being parked: park re-checks the call and wraps up, one task', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    // The hang-up lands between the call update and the Sync writes; its callback found no entry.
    let hungUp = false;
    emu.failNext((info) => {
      if (!hungUp && info.method === 'POST' && info.path.endsWith(`/Maps/${workerSid}.ParkedCalls/Items`)) {
        hungUp = true;
        emu.state.calls.calls.get(callSid).status = 'completed';
      }
      return false;
    });
    const form = await heldForm(supervisor, callSid, workerSid);
    const res = await postForm(rt.url('/park-call'), form);
    emu.clearFaults();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.callEnded, true);
    assert.equal(res.body.wrapUp.handled, true);
    assert.equal((await tasksFor(callSid)).length, 1);
    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
  });
});
