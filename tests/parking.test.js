// End to end: the four call-parking functions in the real local runtime (twilio-run), talking
// through the real `twilio` client to the emulator. Run `npm run build` first.
const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('./helpers/runtime');
const { startEmulator } = require('../emulator');
const { emulatorClient, postForm, sid, heldTask } = require('./helpers/emulator-client');

let emu;
let rt;
let client;
let token;

before(async () => {
  emu = await startEmulator({ port: 0 });
  client = emulatorClient(emu);
  // Default retry settings: they also ride out the emulator's real Sync limit of 20 writes/s per
  // map, which these tests (all writing Global.ParkedCalls) reach.
  rt = await startRuntime({ env: emu.functionEnv() });
  // A supervisor may act for any worker, so each test can use a fresh worker (and fresh Sync maps).
  token = emu.makeToken({ identity: 'alice', roles: ['agent', 'supervisor'] }).token;
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
const liveCall = async () => (await client.calls.create({ to: '+15005550006', from: '+15005550001', twiml: '<Response><Dial><Conference>agent</Conference></Dial></Response>' })).sid;
const fetchItem = async (map, key) => {
  try {
    return await sync().syncMaps(map).syncMapItems(key).fetch();
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
};
const tasks = async () => client.taskrouter.v1.workspaces(env().WORKSPACE_SID).tasks.list();
const tasksFor = async (callSid) => (await tasks()).filter((t) => JSON.parse(t.attributes).call_sid === callSid);
const callPosts = (callSid) => emu.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/Calls/${callSid}.json`));

function parkForm(callSid, workerSid, overrides = {}) {
  return {
    Token: token,
    attributes: JSON.stringify({ name: 'Ada <Lovelace> & "Co" ]]> é', from: '+15005550001', conversations: { conversation_id: 'WTabc' } }),
    callSid,
    name: 'Ada',
    queueName: 'Support',
    taskSid: sid('WT'),
    workerSid,
    workflowSid: 'WW' + 'a'.repeat(32),
    ...overrides,
  };
}

// A park request whose task is really the worker's and carries the call (park checks both).
const heldForm = async (callSid, workerSid, overrides = {}) => parkForm(callSid, workerSid, { taskSid: await heldTask(emu, workerSid, callSid), ...overrides });

async function park(callSid, workerSid, overrides) {
  const res = await postForm(rt.url('/park-call'), await heldForm(callSid, workerSid, overrides));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.parkedCall;
}

function pickupForm(record, workerSid = record.workerSid) {
  return {
    Token: token,
    attributes: JSON.stringify(record.attributes),
    callSid: record.callSid,
    dateCreated: record.dateCreated,
    name: record.name,
    queueName: record.queueName,
    workerSid,
    workflowSid: record.workflowSid,
  };
}

describe('park-call', () => {
  test('puts the caller on hold music and lists the call in both Sync maps', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    const record = await park(callSid, workerSid);

    const call = emu.state.calls.calls.get(callSid);
    const domain = `localhost:${rt.port}`; // twilio-run's DOMAIN_NAME
    assert.equal(call.twiml, `<?xml version="1.0" encoding="UTF-8"?><Response><Play loop="99">https://${domain}/hold_music_1.mp3</Play></Response>`);
    assert.equal(call.statusCallback, `https://${domain}/call-status-handler#rc=3&rp=5xx,ct,rt`, 'with the redelivery overrides');

    for (const map of [`${workerSid}.ParkedCalls`, 'Global.ParkedCalls']) {
      const item = await fetchItem(map, callSid);
      assert.ok(item, `${map} has the call`);
      assert.deepEqual(item.data, record);
      const ttl = (new Date(item.dateExpires) - new Date(item.dateCreated)) / 1000;
      assert.ok(Math.abs(ttl - 86400) <= 1, `TTL ${ttl}`);
    }
    assert.equal(record.callSid, callSid);
    assert.equal(record.workerSid, workerSid);
    assert.equal(record.attributes.conversations.conversation_id, 'WTabc');
    assert.ok(Math.abs(Date.parse(record.dateCreated) - Date.now()) < 10000);
  });

  test('parking the same call twice updates the entries instead of failing', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    await park(callSid, workerSid);
    const second = await park(callSid, workerSid, { name: 'Ada again' });
    for (const map of [`${workerSid}.ParkedCalls`, 'Global.ParkedCalls']) {
      const item = await fetchItem(map, callSid);
      assert.equal(item.data.name, 'Ada again');
      assert.equal(item.revision, '1', 'one create and one update');
      assert.deepEqual(item.data, second);
    }
    const items = await sync().syncMaps(`${workerSid}.ParkedCalls`).syncMapItems.list();
    assert.equal(items.length, 1);
  });

  test('a failed call update writes nothing and says why', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    emu.failNext({ method: 'POST', path: `/Calls/${callSid}.json` }, { status: 500, message: 'boom' });
    const res = await postForm(rt.url('/park-call'), await heldForm(callSid, workerSid));
    assert.equal(res.status, 502);
    assert.match(res.body.error, /call update.*boom/);
    assert.equal(res.body.twilioError.status, 500);
    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
    assert.equal(await fetchItem(`${workerSid}.ParkedCalls`, callSid), null);

    // A call that already ended: Twilio's 400 passes through, still nothing written.
    await client.calls(callSid).update({ status: 'completed' });
    const ended = await postForm(rt.url('/park-call'), await heldForm(callSid, workerSid));
    assert.equal(ended.status, 400);
    assert.match(ended.body.error, /not in-progress/);
    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
  });

  test('a 429 from Twilio is retried', async () => {
    const callSid = await liveCall();
    emu.failNext({ method: 'POST', path: `/Calls/${callSid}.json` }, { status: 429 });
    emu.failNext({ method: 'POST', path: /\/Maps\/Global\.ParkedCalls\/Items$/ }, { status: 429, code: 54009 });
    await park(callSid, sid('WK'));
    assert.deepEqual(
      callPosts(callSid).map((r) => r.status),
      [429, 200],
    );
    assert.ok(await fetchItem('Global.ParkedCalls', callSid));
  });

  test('a call update that times out is not retried and writes nothing', async () => {
    const callSid = await liveCall();
    emu.failNext({ method: 'POST', path: `/Calls/${callSid}.json` }, { timeout: true, holdMs: 8000 });
    const res = await postForm(rt.url('/park-call'), await heldForm(callSid, sid('WK')));
    assert.equal(res.status, 502);
    assert.match(res.body.error, /timeout/i);
    assert.equal(callPosts(callSid).length, 1, 'a timed-out request may have been carried out: no retry');
    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
  });

  test('gives up after TWILIO_SERVICE_RETRY_LIMIT retries', async () => {
    const callSid = await liveCall();
    emu.failNext({ method: 'POST', path: `/Calls/${callSid}.json` }, { status: 503, times: 10 });
    const res = await postForm(rt.url('/park-call'), await heldForm(callSid, sid('WK')));
    assert.equal(res.status, 502);
    assert.equal(callPosts(callSid).length, 6, 'the first try and 5 retries');
    emu.clearFaults();
  });
});

describe('pickup-parked-call', () => {
  test('enqueues a task for the agent with the merged, escaped attributes, then unlists the call', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    const record = await park(callSid, workerSid);
    const res = await postForm(rt.url('/pickup-parked-call'), pickupForm(record));
    assert.equal(res.status, 200, JSON.stringify(res.body));

    const twiml = emu.state.calls.calls.get(callSid).twiml;
    const m = /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Enqueue workflowSid="(WW[a]{32})"><Task priority="1000">([^<]*)<\/Task><\/Enqueue><\/Response>$/.exec(twiml);
    assert.ok(m, twiml);
    const text = m[2]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    const attrs = JSON.parse(text);
    assert.equal(attrs.name, 'Ada <Lovelace> & "Co" ]]> é', 'name kept, not replaced');
    assert.equal(attrs.autoAnswer, true);
    assert.equal(attrs.isParkPickup, true);
    assert.equal(attrs.targetWorker, workerSid);
    assert.equal(attrs.from, '+15005550001');
    assert.equal(attrs.conversations.conversation_id, 'WTabc');
    assert.equal(attrs.conversations.queue, 'Support');
    assert.equal(attrs.conversations.queue_time, 0);
    assert.ok(Number.isInteger(attrs.conversations.hold_time) && attrs.conversations.hold_time >= 0);
    assert.deepEqual(res.body.taskAttributes, attrs);

    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
    assert.equal(await fetchItem(`${workerSid}.ParkedCalls`, callSid), null);
  });

  test("hold time counts from the record's dateCreated, not the request's", async () => {
    const callSid = await liveCall();
    const record = await park(callSid, sid('WK'));
    const earlier = new Date(Date.parse(record.dateCreated) - 95_000).toISOString();
    await sync()
      .syncMaps('Global.ParkedCalls')
      .syncMapItems(callSid)
      .update({ data: { ...record, dateCreated: earlier } });
    const forged = new Date(Date.parse(record.dateCreated) - 5_000_000).toISOString();
    const res = await postForm(rt.url('/pickup-parked-call'), pickupForm({ ...record, dateCreated: forged }));
    assert.equal(res.status, 200);
    assert.ok(res.body.holdTime >= 95 && res.body.holdTime < 105, String(res.body.holdTime));
  });

  test('a call update refused for certain leaves Sync as it was (mark taken back)', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    const record = await park(callSid, workerSid);
    const before = await fetchItem('Global.ParkedCalls', callSid);
    emu.failNext({ method: 'POST', path: `/Calls/${callSid}.json` }, { status: 400, code: 21218, message: 'Invalid ApplicationSid' });
    const res = await postForm(rt.url('/pickup-parked-call'), pickupForm(record));
    assert.equal(res.status, 400);
    assert.match(res.body.error, /stays parked/);
    const after = await fetchItem('Global.ParkedCalls', callSid);
    assert.deepEqual(after.data, before.data, 'the pickup mark was taken back');
    assert.ok(await fetchItem(`${workerSid}.ParkedCalls`, callSid));
    assert.equal(emu.state.calls.calls.get(callSid).twiml.includes('<Play'), true, 'still on hold');
  });

  test('a call update that may have happened (500) keeps the pickup mark, so no hang-up task follows', async () => {
    const callSid = await liveCall();
    const record = await park(callSid, sid('WK'));
    emu.failNext({ method: 'POST', path: `/Calls/${callSid}.json` }, { status: 500, applied: true });
    const res = await postForm(rt.url('/pickup-parked-call'), pickupForm(record));
    assert.equal(res.status, 502);
    assert.match(res.body.error, /call update/);
    const entry = await fetchItem('Global.ParkedCalls', callSid);
    assert.ok(entry.data.pickedUp, 'still marked picked up');
    await postForm(`${emu.origin}/emulator/calls/${callSid}/status`, { CallStatus: 'completed' });
    assert.equal((await tasksFor(callSid)).length, 0);
  });
});

describe('call-status-handler', () => {
  test('a parked caller hanging up gets one wrap-up task, a marked worker entry and no global entry', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    const record = await park(callSid, workerSid);
    // Twilio delivers the status callback (signed, form-encoded) three times.
    const { body } = await postForm(`${emu.origin}/emulator/calls/${callSid}/status`, { CallStatus: 'no-answer', repeat: '3' });
    assert.deepEqual(
      body.deliveries.map((d) => d.status),
      [200, 200, 200],
    );
    const answers = body.deliveries.map((d) => JSON.parse(d.body));
    assert.deepEqual(
      answers.map((a) => a.handled),
      [true, false, false],
    );

    const created = await tasksFor(callSid);
    assert.equal(created.length, 1);
    const task = created[0];
    assert.equal(task.workflowSid, record.workflowSid);
    assert.equal(task.taskChannelUniqueName, 'voice');
    assert.equal(task.priority, 1000);
    const attrs = JSON.parse(task.attributes);
    assert.equal(attrs.isParkHangup, true);
    assert.equal(attrs.targetWorker, workerSid);
    assert.equal(attrs.autoComplete, false);
    assert.equal(attrs.call_sid, callSid);
    assert.equal(attrs.name, record.attributes.name);
    assert.equal(attrs.from, '+15005550001');
    assert.equal(attrs.conversations.outcome, 'Hangup While Parked');
    assert.equal(attrs.conversations.conversation_id, 'WTabc');
    assert.ok(Number.isInteger(attrs.conversations.hold_time));

    assert.equal(await fetchItem('Global.ParkedCalls', callSid), null);
    const mine = await fetchItem(`${workerSid}.ParkedCalls`, callSid);
    assert.equal(mine.data.callerHangup, true);
    assert.ok(Date.parse(mine.data.callerHangupTime) > 0);
    const ttl = (new Date(mine.dateExpires) - Date.now()) / 1000;
    assert.ok(ttl > 100 && ttl <= 121, `TTL ${ttl}`);
  });

  test('concurrent duplicates in one container and across two containers create one task', async () => {
    const rt2 = await startRuntime({ env: emu.functionEnv() });
    let raced = 0;
    const mine = new Set();
    try {
      for (const status of ['completed', 'busy', 'failed', 'canceled']) {
        const callSid = await liveCall();
        mine.add(callSid);
        await park(callSid, sid('WK'));
        const form = { CallSid: callSid, CallStatus: status, SequenceNumber: '0', Timestamp: new Date().toUTCString() };
        const results = await Promise.all([rt, rt2, rt, rt2, rt, rt2].map((r) => postForm(r.url('/call-status-handler'), form)));
        assert.deepEqual(
          results.map((r) => r.status),
          [200, 200, 200, 200, 200, 200],
          JSON.stringify(results.map((r) => r.body)),
        );
        assert.equal(results.filter((r) => r.body.handled).length, 1, status);
        assert.equal((await tasksFor(callSid)).length, 1, status);
        raced += results.filter((r) => r.body.reason === 'already_claimed').length;
      }
      // Only this test's claims: other tests share the emulator's request log.
      const lostClaims = emu.requests.filter((r) => r.status === 412 && [...mine].some((c) => r.path.endsWith(`/Items/${c}`))).length;
      assert.ok(raced + lostClaims > 0, 'the callbacks really raced for the claim');
    } finally {
      await rt2.stop();
    }
  });

  test('out-of-order callbacks: late non-terminal and late duplicate statuses do nothing', async () => {
    const callSid = await liveCall();
    const workerSid = sid('WK');
    await park(callSid, workerSid);
    const post = (CallStatus, SequenceNumber) => postForm(rt.url('/call-status-handler'), { CallSid: callSid, CallStatus, SequenceNumber });
    assert.equal((await post('in-progress', '1')).body.reason, 'non_terminal_status');
    assert.ok(await fetchItem('Global.ParkedCalls', callSid), 'still parked after a non-terminal status');
    assert.equal((await post('completed', '3')).body.handled, true);
    assert.equal((await post('ringing', '0')).body.reason, 'non_terminal_status');
    assert.equal((await post('completed', '2')).body.reason, 'not_parked');
    assert.equal((await tasksFor(callSid)).length, 1);
  });

  test('a 500 on task creation is looked up (EvaluateTaskAttributes) before creating again: one task', async () => {
    const callSid = await liveCall();
    await park(callSid, sid('WK'));
    emu.failNext({ method: 'POST', path: /\/Tasks$/ }, { status: 500 });
    const from = emu.requests.length;
    const res = await postForm(rt.url('/call-status-handler'), { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '0' });
    assert.deepEqual([res.status, res.body.handled], [200, true], JSON.stringify(res.body));
    const mine = emu.requests.slice(from).filter((r) => r.path.endsWith('/Tasks'));
    assert.deepEqual(
      mine.map((r) => `${r.method} ${r.status}`),
      ['POST 500', 'GET 200', 'POST 201'],
    );
    assert.equal(mine[1].query.EvaluateTaskAttributes, `call_sid == "${callSid}" AND isParkHangup == true`);
    assert.equal((await tasksFor(callSid)).length, 1);
  });

  test('task creation refused (429 to the end) releases the claim and answers 503; the next delivery succeeds', async () => {
    const callSid = await liveCall();
    await park(callSid, sid('WK'));
    emu.failNext({ method: 'POST', path: /\/Tasks$/ }, { status: 429, times: 1 });
    const form = { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '0' };
    const first = await postForm(rt.url('/call-status-handler'), form);
    assert.deepEqual([first.status, first.body.retry], [503, true], JSON.stringify(first.body));
    const entry = await fetchItem('Global.ParkedCalls', callSid);
    assert.equal(entry.data.wrapUp.released, true, 'claim released');
    const second = await postForm(rt.url('/call-status-handler'), form);
    assert.equal(second.body.handled, true);
    assert.equal((await tasksFor(callSid)).length, 1);
  });

  test('a call that is not parked, or a picked-up call, is a no-op', async () => {
    const stranger = await liveCall();
    const res = await postForm(rt.url('/call-status-handler'), { CallSid: stranger, CallStatus: 'completed', SequenceNumber: '0' });
    assert.deepEqual([res.status, res.body.handled, res.body.reason], [200, false, 'not_parked']);

    const callSid = await liveCall();
    const record = await park(callSid, sid('WK'));
    assert.equal((await postForm(rt.url('/pickup-parked-call'), pickupForm(record))).status, 200);
    const after = await postForm(rt.url('/call-status-handler'), { CallSid: callSid, CallStatus: 'completed', SequenceNumber: '1' });
    assert.equal(after.body.reason, 'not_parked');
    assert.equal((await tasksFor(callSid)).length, 0);
  });

  test('bad callbacks are 400s naming the parameter', async () => {
    const missing = await postForm(rt.url('/call-status-handler'), { CallStatus: 'completed' });
    assert.deepEqual([missing.status, missing.body.parameter], [400, 'CallSid']);
    const bad = await postForm(rt.url('/call-status-handler'), { CallSid: sid('CA'), CallStatus: 'exploded' });
    assert.deepEqual([bad.status, bad.body.parameter], [400, 'CallStatus']);
  });
});

describe('worker-capacity', () => {
  test('updates the worker channel and answers its new state', async () => {
    const minted = emu.makeToken({ identity: 'bob' });
    const workerSid = minted.worker_sid;
    const voice = await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).workers(workerSid).workerChannels('voice').fetch();
    const res = await postForm(rt.url('/worker-capacity'), { Token: minted.token, capacity: '2', workerChannelSid: voice.sid, workerSid });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['configuredCapacity', 'dateUpdated', 'sid', 'taskChannelUniqueName']);
    assert.equal(res.body.sid, voice.sid);
    assert.equal(res.body.configuredCapacity, 2);
    assert.equal(res.body.taskChannelUniqueName, 'voice');
    const after = await client.taskrouter.v1.workspaces(env().WORKSPACE_SID).workers(workerSid).workerChannels(voice.sid).fetch();
    assert.equal(after.configuredCapacity, 2);
  });

  test('an unknown worker is a 404 from Twilio', async () => {
    const res = await postForm(rt.url('/worker-capacity'), { Token: token, capacity: '1', workerChannelSid: sid('WC'), workerSid: sid('WK') });
    assert.equal(res.status, 404);
    assert.equal(res.body.twilioError.code, 20404);
  });
});

describe('every function', () => {
  const requests = {
    '/park-call': () => parkForm(sid('CA'), sid('WK')),
    '/pickup-parked-call': () => pickupForm({ attributes: {}, callSid: sid('CA'), dateCreated: new Date().toISOString(), name: 'A', queueName: 'Q', workerSid: sid('WK'), workflowSid: sid('WW') }),
    '/worker-capacity': () => ({ Token: token, capacity: '2', workerChannelSid: sid('WC'), workerSid: sid('WK') }),
  };

  test('a missing, unknown or expired token is a 403 with a message, before anything is done', async () => {
    const expired = emu.makeToken({ identity: 'old', ttl: -1 }).token;
    for (const [path, form] of Object.entries(requests)) {
      const posts = emu.requests.length;
      for (const [Token, message] of [
        [undefined, /Token was not provided/],
        ['forged', /Invalid Access Token/],
        [expired, /expired/],
      ]) {
        const res = await postForm(rt.url(path), { ...form(), Token });
        assert.equal(res.status, 403, `${path} ${Token}`);
        assert.match(res.body.error, message);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
      }
      const calls = emu.requests.slice(posts).filter((r) => r.product !== 'iam');
      assert.deepEqual(calls, [], `${path} made no other Twilio request`);
    }
  });

  test('each missing parameter is a 400 naming it', async () => {
    // pickup reads everything but the call SID from the parked-call record.
    const required = { '/pickup-parked-call': ['callSid'] };
    for (const [path, form] of Object.entries(requests)) {
      for (const name of required[path] || Object.keys(form()).filter((k) => k !== 'Token')) {
        const res = await postForm(rt.url(path), { ...form(), [name]: undefined });
        assert.equal(res.status, 400, `${path} without ${name}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.parameter, name);
        assert.match(res.body.error, new RegExp(name));
      }
    }
    const bad = await postForm(rt.url('/park-call'), { ...requests['/park-call'](), attributes: '{not json' });
    assert.deepEqual([bad.status, bad.body.parameter, bad.body.code], [400, 'attributes', 'invalid_parameter']);
  });

  test('answers CORS preflight for the Flex UI', async () => {
    const res = await fetch(rt.url('/park-call'), { method: 'OPTIONS' });
    assert.ok(res.status < 300);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('a missing WORKSPACE_SID or SYNC_SERVICE_SID is a 500 naming it', async () => {
    // Missing under every name: the aliases TWILIO_FLEX_SYNC_SID and TWILIO_FLEX_WORKSPACE_SID
    // (README, "Settings and their aliases") are blank too.
    const broken = await startRuntime({ env: { ...emu.functionEnv(), SYNC_SERVICE_SID: '', WORKSPACE_SID: '', TWILIO_FLEX_SYNC_SID: '', TWILIO_FLEX_WORKSPACE_SID: '' } });
    try {
      for (const [path, variable] of [
        ['/park-call', 'SYNC_SERVICE_SID'],
        ['/pickup-parked-call', 'SYNC_SERVICE_SID'],
        ['/worker-capacity', 'WORKSPACE_SID'],
        ['/call-status-handler', 'WORKSPACE_SID'],
      ]) {
        const form = requests[path] ? requests[path]() : { CallSid: sid('CA'), CallStatus: 'completed' };
        const res = await postForm(broken.url(path), form);
        assert.equal(res.status, 500, path);
        assert.equal(res.body.variable, variable);
        assert.match(res.body.error, new RegExp(variable));
      }
    } finally {
      await broken.stop();
    }
  });
});
