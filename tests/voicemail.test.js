// End to end: voicemail for direct calls and the voicemail box, in the real local runtime
// (twilio-run) with the real `twilio` client against the emulator. TaskRouter's reservation events
// reach the real event callback (realtimestats-updateQueueStatistics and its voicemail hook);
// Twilio's <Record> callbacks come from the emulator, signed and redelivered as Twilio would.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const { startRuntime } = require('./helpers/runtime');
const { emulatorClient, postForm } = require('./helpers/emulator-client');
const { directCall, reservation, record, callState } = require('./helpers/voicemail');
const { wavBytes } = require('../emulator/recordings');

let stack;
let client;
let alice;
let bob;
let sup;

let vmSync; // the voicemail's own Sync service (VOICEMAIL_SYNC_SID), ACL on

before(async () => {
  // The stack as `npm start` runs it (tests/helpers/stack.js), plus a Sync service of its own for
  // the voicemails, created first so the runtime gets its SID.
  const emu = await startEmulator({ port: 0 });
  client = emulatorClient(emu);
  vmSync = (await client.sync.v1.services.create({ friendlyName: 'Voicemail', aclEnabled: true })).sid;
  const rt = await startRuntime({ env: { ...emu.functionEnv(), VOICEMAIL_SYNC_SID: vmSync, VOICEMAIL_TRANSCRIBE: 'true', VOICEMAIL_MEDIA_FORMAT: 'wav' } });
  await postForm(`${emu.origin}/emulator/event-callback`, { url: rt.url('/realtimestats-updateQueueStatistics') });
  stack = { emu, rt, stop: () => rt.stop().finally(() => emu.close()) };
  alice = stack.emu.makeToken({ identity: 'alice', roles: ['agent'] });
  bob = stack.emu.makeToken({ identity: 'bob', roles: ['agent'] });
  sup = stack.emu.makeToken({ identity: 'sam', roles: ['agent', 'supervisor'] });
  // Alice's recorded greeting is her worker attribute; Bob has none (the default names him).
  await client.taskrouter.v1
    .workspaces(stack.emu.functionEnv().WORKSPACE_SID)
    .workers(alice.worker_sid)
    .update({ attributes: JSON.stringify({ full_name: 'Alice Example', voicemailGreetingUrl: 'https://example.com/alice-greeting.mp3' }) });
});

after(async () => {
  if (stack) await stack.stop();
});

const env = () => stack.emu.functionEnv();
const box = (workerSid) => client.sync.v1.services(vmSync).syncMaps(`Voicemail.${workerSid}`);
const boxItems = async (workerSid) => {
  try {
    return await box(workerSid).syncMapItems.list();
  } catch (err) {
    if (err.status === 404) return [];
    throw err;
  }
};
const task = (sid) => client.taskrouter.v1.workspaces(env().WORKSPACE_SID).tasks(sid).fetch();
const redirects = (callSid) => stack.emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/Calls/${callSid}.json`) && r.body && r.body.Url);

/** GET /voicemail with the token in the Authorization header. */
async function boxGet(token, params) {
  const res = await fetch(stack.rt.url(`/voicemail?${new URLSearchParams(params)}`), { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const type = res.headers.get('content-type') || '';
  return { status: res.status, type, body: type.startsWith('application/json') ? await res.json() : Buffer.from(await res.arrayBuffer()) };
}
/** POST /voicemail, JSON body, token in the header. */
async function boxPost(token, body) {
  const res = await fetch(stack.rt.url('/voicemail'), { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** A direct call sent to voicemail by `status` (rejected/timeout), checked, then recorded. */
async function toVoicemail(worker, status, recordForm = {}) {
  const call = await directCall(stack, worker.worker_sid, { workerName: worker.identity });
  const r = await reservation(stack, call.taskSid, worker.worker_sid, status);
  assert.equal(r.deliveries[0].status, 200);
  const summary = JSON.parse(r.deliveries[0].body).voicemail;
  assert.equal(summary.action, 'voicemail', JSON.stringify(summary));
  return { ...call, summary, rec: await record(stack, call.callSid, recordForm) };
}

test('an unavailable worker (Studio redirects the call): greeting naming them, <Record>, one voicemail', async () => {
  const call = await directCall(stack, bob.worker_sid);
  // Studio's flow found Bob unavailable and redirects the call to the voicemail TwiML.
  await client.calls(call.callSid).update({ url: `https://localhost:${stack.rt.port}/voicemail-twiml?workerSid=${bob.worker_sid}`, method: 'POST' });
  const rec = await record(stack, call.callSid, { durationSeconds: '3' });
  const state = await callState(stack, call.callSid);
  assert.match(state.urlTwiml, /<Say>You have reached bob\. bob cannot take your call right now\./);
  assert.match(state.urlTwiml, /<Record action="https:\/\/localhost:\d+\/voicemail-twiml\?workerSid=WK[0-9a-f]{32}&amp;step=done"/);
  assert.match(state.urlTwiml, /transcribe="true"/);
  assert.equal(rec.deliveries.action[0].status, 200);
  assert.match(rec.deliveries.action[0].body, /Goodbye/);
  assert.equal(rec.deliveries.status[0].status, 200);
  assert.equal(rec.deliveries.transcription[0].status, 200);
  const items = await boxItems(bob.worker_sid);
  assert.equal(items.length, 1);
  const v = items[0].data;
  assert.deepEqual(
    { callSid: v.callSid, workerSid: v.workerSid, recordingSid: v.recordingSid, from: v.from, duration: v.duration, reason: v.reason, heard: v.heard, transcription: v.transcription },
    {
      callSid: call.callSid,
      workerSid: bob.worker_sid,
      recordingSid: rec.recording.sid,
      from: '+15551230001',
      duration: 3,
      reason: 'unavailable',
      heard: false,
      transcription: 'Hello, please call me back.',
    },
  );
});

test('no answer (reservation.timeout): the call goes to voicemail, the task is canceled, the worker has nothing to wrap up', async () => {
  const { callSid, taskSid, summary, rec } = await toVoicemail(alice, 'timeout');
  assert.equal(summary.reason, 'no_answer');
  assert.equal(summary.task, 'canceled');
  const state = await callState(stack, callSid);
  assert.match(state.url, new RegExp(`/voicemail-twiml\\?workerSid=${alice.worker_sid}&reason=no_answer$`));
  assert.match(state.urlTwiml, /<Play>https:\/\/example\.com\/alice-greeting\.mp3<\/Play><Record /, 'her own greeting');
  const t = await task(taskSid);
  assert.equal(t.assignmentStatus, 'canceled');
  assert.equal(t.reason, 'Sent to voicemail');
  const items = await boxItems(alice.worker_sid);
  const v = items.find((i) => i.key === callSid).data;
  assert.equal(v.recordingSid, rec.recording.sid);
  assert.equal(v.reason, 'no_answer');
});

test('reject: voicemail once, never back to the worker (duplicate event, the task cannot be offered again)', async () => {
  const call = await directCall(stack, alice.worker_sid);
  const r = await reservation(stack, call.taskSid, alice.worker_sid, 'rejected', { repeat: 2 });
  const [first, second] = r.deliveries.map((d) => JSON.parse(d.body).voicemail);
  assert.equal(first.action, 'voicemail');
  assert.equal(first.reason, 'rejected');
  assert.equal(second.action, 'already', JSON.stringify(second));
  assert.equal(redirects(call.callSid).length, 1, 'the call is redirected once');
  const t = await task(call.taskSid);
  assert.equal(t.assignmentStatus, 'canceled');
  const reservations = await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).tasks(call.taskSid).reservations.list();
  assert.deepEqual(
    reservations.map((x) => [x.workerSid, x.reservationStatus]),
    [[alice.worker_sid, 'rejected']],
  );
  // TaskRouter never offers a canceled task again: the worker does not get it back.
  const again = await postForm(`${stack.emu.origin}/emulator/taskrouter/tasks/${call.taskSid}/reservations`, { workerSid: alice.worker_sid, status: 'pending' });
  assert.equal(again.status, 400);
  // Another worker's reject of a direct call is not the called worker's: nothing happens.
  const other = await directCall(stack, alice.worker_sid);
  const o = await reservation(stack, other.taskSid, bob.worker_sid, 'rejected');
  assert.equal(JSON.parse(o.deliveries[0].body).voicemail.action, 'none');
  assert.equal(redirects(other.callSid).length, 0);
  // The queue statistics still answered normally.
  assert.equal(JSON.parse(r.deliveries[0].body).plan.action !== undefined, true);
});

test('duplicate and lost callbacks: one voicemail', async () => {
  const call = await directCall(stack, bob.worker_sid);
  await reservation(stack, call.taskSid, bob.worker_sid, 'rejected');
  // The first status callback's Sync write is carried out but its answer is lost (500): the
  // function answers 503, Twilio redelivers, the redelivery finds it stored. Then a duplicate
  // status callback, a lost <Record> action, and the transcription before the status callback.
  stack.emu.failNext({ method: 'POST', path: new RegExp(`/Maps/Voicemail\\.${bob.worker_sid}/Items$`) }, { status: 500, applied: true });
  const rec = await record(stack, call.callSid, { order: 'status,transcription,action', 'repeat.status': '2', 'repeat.action': '0' });
  const [lost, dup] = rec.deliveries.status;
  assert.deepEqual(
    lost.attempts.map((a) => a.status),
    [503, 200],
    'redelivered once',
  );
  assert.match(JSON.parse(lost.body).reason, /already stored/);
  assert.equal(dup.status, 200);
  assert.match(JSON.parse(dup.body).reason, /already stored/);
  assert.equal(rec.deliveries.action.length, 0);
  const mine = (await boxItems(bob.worker_sid)).filter((i) => i.key === call.callSid);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].data.recordingSid, rec.recording.sid);
  assert.equal(mine[0].data.transcription, 'Hello, please call me back.');

  // Status callback lost entirely (every delivery): the <Record> action stores it.
  const call2 = await directCall(stack, bob.worker_sid);
  await reservation(stack, call2.taskSid, bob.worker_sid, 'timeout');
  const rec2 = await record(stack, call2.callSid, { 'repeat.status': '0', 'repeat.transcription': '0' });
  const v2 = (await boxItems(bob.worker_sid)).find((i) => i.key === call2.callSid);
  assert.ok(v2, 'stored from the action');
  assert.equal(v2.data.recordingSid, rec2.recording.sid);
  assert.equal(v2.data.from, '+15551230001');
});

test("the box: listed, streamed (the emulator's bytes), marked heard, deleted with its recording", async () => {
  const { callSid, rec } = await toVoicemail(alice, 'rejected', { durationSeconds: '2' });
  let list = await boxGet(alice.token, {});
  assert.equal(list.status, 200);
  const mine = list.body.voicemails.find((v) => v.callSid === callSid);
  assert.ok(mine);
  assert.equal(list.body.workerSid, alice.worker_sid);
  assert.equal(list.body.unheard, list.body.voicemails.filter((v) => !v.heard).length);
  assert.equal(list.body.unheardAtLeast, false);
  const unheardBefore = list.body.unheard;

  const media = await boxGet(alice.token, { action: 'media', callSid });
  assert.equal(media.status, 200);
  assert.equal(media.type, 'audio/wav');
  assert.ok(media.body.equals(wavBytes(2)), "the bytes are the emulator's media");

  const heard = await boxPost(alice.token, { action: 'heard', callSid });
  assert.equal(heard.status, 200);
  assert.equal(heard.body.voicemail.heard, true);
  list = await boxGet(alice.token, {});
  assert.equal(list.body.unheard, unheardBefore - 1);
  const unheard = await boxPost(alice.token, { action: 'heard', callSid, heard: 'false' });
  assert.equal(unheard.body.voicemail.heard, false);

  const del = await boxPost(alice.token, { action: 'delete', callSid });
  assert.deepEqual(del, { status: 200, body: { deleted: true, callSid, recordingSid: rec.recording.sid } });
  await assert.rejects(client.recordings(rec.recording.sid).fetch(), (err) => err.status === 404);
  const snap = await (await fetch(`${stack.emu.origin}/`)).json();
  assert.ok(snap.recordings.deleted.includes(rec.recording.sid));
  list = await boxGet(alice.token, {});
  assert.equal(
    list.body.voicemails.some((v) => v.callSid === callSid),
    false,
  );
  assert.equal((await boxGet(alice.token, { action: 'media', callSid })).status, 404);

  // Pages of at most pageSize, continued with nextPageToken.
  const p1 = await boxGet(bob.token, { pageSize: '1' });
  assert.equal(p1.body.voicemails.length, 1);
  assert.equal(p1.body.unheardAtLeast, true);
  const p2 = await boxGet(bob.token, { pageSize: '1', pageToken: p1.body.nextPageToken });
  assert.equal(p2.status, 200);
  assert.notEqual(p2.body.voicemails[0].callSid, p1.body.voicemails[0].callSid);
});

test("an agent cannot list, play or delete another's voicemail; a supervisor can list it; bad input is a 400 naming it", async () => {
  const { callSid } = await toVoicemail(alice, 'timeout');
  const asBob = [
    await boxGet(bob.token, { workerSid: alice.worker_sid }),
    await boxGet(bob.token, { workerSid: alice.worker_sid, action: 'media', callSid }),
    await boxPost(bob.token, { workerSid: alice.worker_sid, action: 'delete', callSid }),
    await boxPost(bob.token, { workerSid: alice.worker_sid, action: 'heard', callSid }),
  ];
  for (const r of asBob) {
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.code, 'wrong_worker');
  }
  // Bob's own box does not hold Alice's call.
  assert.equal((await boxGet(bob.token, { action: 'media', callSid })).status, 404);
  assert.ok(
    (await boxItems(alice.worker_sid)).some((i) => i.key === callSid),
    'still there',
  );
  assert.ok(stack.emu.state.recordings.recordings.size > 0);

  const asSup = await boxGet(sup.token, { workerSid: alice.worker_sid });
  assert.equal(asSup.status, 200);
  assert.ok(asSup.body.voicemails.some((v) => v.callSid === callSid));

  for (const [params, parameter] of [
    [{ action: 'burn' }, 'action'],
    [{ pageSize: '500' }, 'pageSize'],
    [{ action: 'media' }, 'callSid'],
    [{ action: 'media', callSid: 'CA123' }, 'callSid'],
    [{ workerSid: 'alice' }, 'workerSid'],
    [{ pageToken: 'x' }, 'pageToken'],
  ]) {
    const r = await boxGet(alice.token, params);
    assert.equal(r.status, 400, JSON.stringify(params));
    assert.equal(r.body.parameter, parameter);
  }
  assert.equal((await boxGet(null, {})).status, 403);
  const inUrl = await fetch(stack.rt.url(`/voicemail?Token=${alice.token}`));
  assert.equal(inUrl.status, 400);
  assert.equal((await inUrl.json()).code, 'token_in_url');
});

test('voicemail-twiml and voicemail-recorded: 400 naming a bad parameter', async () => {
  const twiml = await postForm(stack.rt.url('/voicemail-twiml'), { CallSid: 'CA' + '0'.repeat(32) });
  assert.equal(twiml.status, 400);
  assert.equal(twiml.body.parameter, 'workerSid');
  const reason = await postForm(stack.rt.url(`/voicemail-twiml?workerSid=${alice.worker_sid}&reason=bored`), {});
  assert.equal(reason.body.parameter, 'reason');
  const recorded = await postForm(stack.rt.url(`/voicemail-recorded?workerSid=${alice.worker_sid}`), { CallSid: 'CA' + '0'.repeat(32), RecordingSid: 'nope' });
  assert.equal(recorded.status, 400);
  assert.equal(recorded.body.parameter, 'RecordingSid');
});

test('the hook: a caller who hung up, a redirect whose answer is lost, Sync failing — the statistics always answer', async () => {
  // The caller hung up before the reject: nothing to record, the task is canceled.
  const gone = await directCall(stack, alice.worker_sid);
  await postForm(`${stack.emu.origin}/emulator/calls/${gone.callSid}/status`, { CallStatus: 'completed' });
  let r = await reservation(stack, gone.taskSid, alice.worker_sid, 'rejected');
  let s = JSON.parse(r.deliveries[0].body).voicemail;
  assert.equal(s.outcome, 'the caller had hung up');
  assert.equal(s.task, 'canceled');
  assert.equal((await task(gone.taskSid)).assignmentStatus, 'canceled');

  // The redirect is carried out but its answer lost (500): the claim stays `redirecting` and the
  // task is left alone; an immediate second event does not redirect again (the lease holds).
  const lost = await directCall(stack, alice.worker_sid);
  stack.emu.failNext({ method: 'POST', path: `/Calls/${lost.callSid}.json` }, { status: 500, applied: true });
  r = await reservation(stack, lost.taskSid, alice.worker_sid, 'timeout');
  s = JSON.parse(r.deliveries[0].body).voicemail;
  assert.match(s.outcome, /unknown/);
  assert.equal((await task(lost.taskSid)).assignmentStatus, 'pending');
  const claim = await client.sync.v1.services(vmSync).syncMaps('Voicemail.Calls').syncMapItems(lost.callSid).fetch();
  assert.equal(claim.data.state, 'redirecting');
  r = await reservation(stack, lost.taskSid, alice.worker_sid, 'rejected');
  assert.equal(JSON.parse(r.deliveries[0].body).voicemail.action, 'none');
  assert.equal(redirects(lost.callSid).length, 1);

  // Sync fails reading the claim: the hook reports it, the event callback still answers 200.
  const broken = await directCall(stack, alice.worker_sid);
  stack.emu.failNext({ method: 'GET', path: `/Maps/Voicemail.Calls/Items/${broken.callSid}` }, { status: 500 });
  r = await reservation(stack, broken.taskSid, alice.worker_sid, 'rejected');
  assert.equal(r.deliveries[0].status, 200);
  const body = JSON.parse(r.deliveries[0].body);
  assert.match(body.voicemail.error, /Internal Server Error|500/);
  assert.ok(body.plan, 'the queue statistics answered as usual');
  assert.equal(redirects(broken.callSid).length, 0);
});

test("VOICEMAIL_SYNC_SID: voicemails and claims live in their own service, none in Flex's", async () => {
  const flexMaps = await client.sync.v1.services(env().SYNC_SERVICE_SID).syncMaps.list();
  assert.deepEqual(
    flexMaps.filter((m) => m.uniqueName.startsWith('Voicemail.')),
    [],
  );
  const own = await client.sync.v1.services(vmSync).syncMaps.list();
  assert.ok(own.some((m) => m.uniqueName === 'Voicemail.Calls'));
  assert.ok(own.some((m) => m.uniqueName === `Voicemail.${alice.worker_sid}`));
});
