// The Twilio API emulator, driven by the real `twilio` client: shapes, error codes, limits, TTLs,
// faults, request log, state, webhooks, and adding an API area.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const twilio = require('twilio');
const { startEmulator, describeForHumans, AREAS } = require('../emulator');
const { emulatorClient, postForm } = require('./helpers/emulator-client');

let emu;
let client;
before(async () => {
  emu = await startEmulator({ port: 0 });
  client = emulatorClient(emu);
});
after(() => emu.close());

const svc = () => client.sync.v1.services(emu.functionEnv().SYNC_SERVICE_SID);
const rejects = async (promise) => {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the request to fail');
};

test('Sync maps and items: create, fetch, list across pages, update with If-Match, delete', async () => {
  const map = await svc().syncMaps.create({ uniqueName: 'T1.ParkedCalls' });
  assert.match(map.sid, /^MP[0-9a-f]{32}$/);
  assert.equal((await rejects(svc().syncMaps.create({ uniqueName: 'T1.ParkedCalls' }))).code, 54301);
  for (const key of ['b', 'a', 'e', 'd', 'c']) await svc().syncMaps('T1.ParkedCalls').syncMapItems.create({ key, data: { key } });
  const listed = await svc().syncMaps(map.sid).syncMapItems.list({ pageSize: 2 });
  assert.deepEqual(
    listed.map((i) => i.key),
    ['a', 'b', 'c', 'd', 'e'],
    'the client followed next_page_url through the emulator',
  );

  const item = await svc().syncMaps('T1.ParkedCalls').syncMapItems('a').fetch();
  assert.deepEqual([item.key, item.revision, item.data, item.mapSid], ['a', '0', { key: 'a' }, map.sid]);
  const updated = await svc()
    .syncMaps('T1.ParkedCalls')
    .syncMapItems('a')
    .update({ data: { v: 2 }, ifMatch: '0' });
  assert.equal(updated.revision, '1');
  const stale = await rejects(
    svc()
      .syncMaps('T1.ParkedCalls')
      .syncMapItems('a')
      .update({ data: { v: 3 }, ifMatch: '0' }),
  );
  assert.deepEqual([stale.status, stale.code], [412, 54205]);
  const staleDelete = await rejects(svc().syncMaps('T1.ParkedCalls').syncMapItems('a').remove({ ifMatch: '0' }));
  assert.equal(staleDelete.status, 412);
  assert.equal(await svc().syncMaps('T1.ParkedCalls').syncMapItems('a').remove({ ifMatch: '1' }), true);
  const gone = await rejects(svc().syncMaps('T1.ParkedCalls').syncMapItems('a').fetch());
  assert.deepEqual([gone.status, gone.code], [404, 20404]);
  const dup = await rejects(svc().syncMaps('T1.ParkedCalls').syncMapItems.create({ key: 'b', data: {} }));
  assert.deepEqual([dup.status, dup.code], [409, 54208]);
  const noMap = await rejects(svc().syncMaps('Nope').syncMapItems.create({ key: 'x', data: {} }));
  assert.deepEqual([noMap.status, noMap.code], [404, 20404]);
});

test("errors have Twilio's body: code, message, more_info, status", async () => {
  const res = await fetch(`${emu.origin}/v1/Services/${emu.functionEnv().SYNC_SERVICE_SID}/Maps/none/Items/x`, {
    headers: { Authorization: `Basic ${Buffer.from(`${emu.functionEnv().ACCOUNT_SID}:${emu.functionEnv().AUTH_TOKEN}`).toString('base64')}` },
  });
  assert.equal(res.status, 404);
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'more_info', 'status']);
  assert.equal(body.more_info, 'https://www.twilio.com/docs/errors/20404');
  const wrong = await rejects(
    twilio(emu.functionEnv().ACCOUNT_SID, 'wrong', { httpClient: { request: (o) => new twilio.RequestClient().request({ ...o, uri: emu.origin + new URL(o.uri).pathname }) } })
      .calls('CA' + '0'.repeat(32))
      .fetch(),
  );
  assert.deepEqual([wrong.status, wrong.code], [401, 20003]);
});

test('Sync limits: 16 KiB of data, 20 writes per second per map with items counting, TTLs expire', async () => {
  await svc().syncMaps.create({ uniqueName: 'Limits' });
  const big = await rejects(
    svc()
      .syncMaps('Limits')
      .syncMapItems.create({ key: 'big', data: { s: 'x'.repeat(16 * 1024) } }),
  );
  assert.deepEqual([big.status, big.code], [413, 54006]);
  await svc()
    .syncMaps('Limits')
    .syncMapItems.create({ key: 'fits', data: { s: 'x'.repeat(16 * 1024 - 20) } });

  emu.ctx.limiter.reset();
  let limited = null;
  for (let i = 0; i < 25 && !limited; i += 1) {
    const write =
      i % 2
        ? svc().syncMaps('Limits').update({ ttl: 0 })
        : svc()
            .syncMaps('Limits')
            .syncMapItems.create({ key: `k${i}`, data: {} });
    limited = await write.then(
      () => null,
      (err) => ({ i, err }),
    );
  }
  assert.ok(limited, 'the 21st write within a second is refused');
  assert.deepEqual([limited.i, limited.err.status, limited.err.code], [20, 429, 54009]);
  emu.clock.advance(1000);
  await svc().syncMaps('Limits').syncMapItems.create({ key: 'after', data: {}, ttl: 120 });

  emu.clock.advance(119_000);
  assert.ok(await svc().syncMaps('Limits').syncMapItems('after').fetch());
  emu.clock.advance(1_000);
  assert.equal((await rejects(svc().syncMaps('Limits').syncMapItems('after').fetch())).status, 404);
  await svc().syncMaps('Limits').update({ ttl: 5 });
  emu.clock.advance(5_000);
  assert.equal((await rejects(svc().syncMaps('Limits').fetch())).status, 404, 'the map expired');
});

test('calls: update with TwiML and StatusCallback; the status callback is delivered signed', async () => {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, params: Object.fromEntries(new URLSearchParams(body)), url: req.url });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const call = await client.calls.create({ to: '+15005550006', from: '+15005550001', twiml: '<Response/>' });
    assert.equal(call.status, 'in-progress');
    const callbackUrl = `https://localhost:${server.address().port}/call-status-handler`;
    const updated = await client.calls(call.sid).update({ twiml: '<Response><Pause/></Response>', statusCallback: callbackUrl });
    assert.equal(updated.sid, call.sid);
    await postForm(`${emu.origin}/emulator/calls/${call.sid}/status`, { CallStatus: 'busy' });
    assert.equal(received.length, 1);
    const { headers, params } = received[0];
    assert.deepEqual([params.CallSid, params.CallStatus, params.SequenceNumber], [call.sid, 'busy', '0']);
    assert.ok(twilio.validateRequest(emu.functionEnv().AUTH_TOKEN, headers['x-twilio-signature'], callbackUrl, params), 'valid X-Twilio-Signature');
    const ended = await rejects(client.calls(call.sid).update({ twiml: '<Response/>' }));
    assert.deepEqual([ended.status, ended.code], [400, 21220]);
    const long = await rejects(client.calls.create({ to: '+1', from: '+2', twiml: 'x'.repeat(4001) }));
    assert.equal(long.status, 400);
  } finally {
    server.close();
  }
});

test('TaskRouter: tasks and worker channels', async () => {
  const ws = client.taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID);
  const worker = await ws.workers.create({ friendlyName: 'carol' });
  const channels = await ws.workers(worker.sid).workerChannels.list();
  assert.deepEqual(channels.map((c) => c.taskChannelUniqueName).sort(), ['chat', 'default', 'email', 'sms', 'video', 'voice']);
  const voice = await ws.workers(worker.sid).workerChannels('voice').update({ capacity: 3 });
  assert.equal(voice.configuredCapacity, 3);
  assert.equal((await rejects(ws.workers(worker.sid).workerChannels('voice').update({ capacity: -1 }))).status, 400);
  const task = await ws.tasks.create({ workflowSid: 'WW' + '1'.repeat(32), taskChannel: 'voice', priority: 1000, attributes: JSON.stringify({ a: 1 }) });
  assert.deepEqual([task.assignmentStatus, task.priority, task.taskChannelUniqueName, JSON.parse(task.attributes)], ['pending', 1000, 'voice', { a: 1 }]);
  assert.equal((await rejects(ws.tasks.create({ workflowSid: 'nope' }))).status, 400);
});

test('TaskRouter: a task held by a worker, and its reservations listed by worker and status', async () => {
  const ws = client.taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID);
  const alice = 'WK' + 'a'.repeat(32);
  const bob = 'WK' + 'b'.repeat(32);
  const made = await postForm(`${emu.origin}/emulator/taskrouter/tasks`, { workerSid: alice, attributes: '{"call_sid":"CA' + '1'.repeat(32) + '"}' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const task = await ws.tasks(made.body.sid).fetch();
  assert.deepEqual([task.assignmentStatus, JSON.parse(task.attributes).call_sid, task.taskChannelUniqueName], ['assigned', 'CA' + '1'.repeat(32), 'voice']);
  await postForm(`${emu.origin}/emulator/taskrouter/tasks/${task.sid}/reservations`, { workerSid: bob, status: 'rejected' });
  const moved = await postForm(`${emu.origin}/emulator/taskrouter/tasks/${task.sid}/reservations`, { workerSid: alice, status: 'wrapping' });
  assert.equal(moved.body.assignment_status, 'wrapping');
  const all = await ws.tasks(task.sid).reservations.list();
  assert.deepEqual(all.map((r) => [r.workerSid, r.reservationStatus, r.taskSid]).sort(), [
    [alice, 'wrapping', task.sid],
    [bob, 'rejected', task.sid],
  ]);
  const hers = await ws.tasks(task.sid).reservations.list({ workerSid: alice });
  assert.deepEqual(
    hers.map((r) => r.reservationStatus),
    ['wrapping'],
  );
  assert.deepEqual((await ws.tasks(task.sid).reservations.list({ reservationStatus: 'accepted' })).length, 0);
  assert.equal((await rejects(ws.tasks('WT' + '0'.repeat(32)).reservations.list())).status, 404);
  const bad = await postForm(`${emu.origin}/emulator/taskrouter/tasks/${task.sid}/reservations`, { workerSid: alice, status: 'exploded' });
  assert.equal(bad.status, 400);
});

test('IAM token validation answers like iam.twilio.com, for the JSON body the validator library sends', async () => {
  const minted = (await postForm(`${emu.origin}/emulator/tokens`, { identity: 'dave', roles: 'agent,supervisor' })).body;
  const validate = (token) =>
    fetch(`${emu.origin}/v1/Accounts/${emu.functionEnv().ACCOUNT_SID}/Tokens/validate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${emu.functionEnv().ACCOUNT_SID}:${emu.functionEnv().AUTH_TOKEN}`).toString('base64')}` },
      body: JSON.stringify({ token }),
    }).then((r) => r.json());
  const ok = await validate(minted.token);
  assert.deepEqual([ok.valid, ok.identity, ok.realm_user_roles, ok.worker_sid], [true, 'dave', ['agent', 'supervisor'], minted.worker_sid]);
  const bad = await validate('forged');
  assert.deepEqual([bad.valid, bad.code, bad.message], [false, 20101, 'Invalid Access Token']);
});

test('fault injection: a 429 once, a timeout, a predicate; every request is recorded', async () => {
  emu.failNext({ method: 'GET', path: '/Workers/' }, { status: 429 });
  const ws = client.taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID);
  const worker = await ws.workers.create({ friendlyName: 'erin' });
  const first = await rejects(ws.workers(worker.sid).fetch());
  assert.deepEqual([first.status, first.code], [429, 20429]);
  assert.equal((await ws.workers(worker.sid).fetch()).sid, worker.sid, 'only the next matching request fails');

  emu.failNext({ path: /\/Tasks$/ }, { timeout: true, holdMs: 2000 });
  const timedOut = await fetch(`${emu.origin}/v1/Workspaces/${emu.functionEnv().WORKSPACE_SID}/Tasks`, { method: 'POST', signal: AbortSignal.timeout(200) }).catch((e) => e);
  assert.equal(timedOut.name, 'TimeoutError');

  emu.failNext((r) => r.product === 'taskrouter' && r.body.FriendlyName === 'frank', { status: 500 });
  assert.equal((await rejects(ws.workers.create({ friendlyName: 'frank' }))).status, 500);

  const faults = await postForm(`${emu.origin}/emulator/faults`, { method: 'GET', path: '/Workers', status: '503' });
  assert.equal(faults.status, 201);
  assert.equal((await rejects(ws.workers.list())).status, 503);

  const log = (await (await fetch(`${emu.origin}/emulator/requests`)).json()).requests;
  const last = log[log.length - 1];
  assert.deepEqual([last.method, last.product, last.status], ['GET', 'taskrouter', 503]);
  assert.ok(log.some((r) => r.status === 'timeout'));
});

test('GET / shows the state as JSON', async () => {
  const state = await (await fetch(`${emu.origin}/`)).json();
  assert.equal(state.accountSid, emu.functionEnv().ACCOUNT_SID);
  assert.ok(state.sync.services[emu.functionEnv().SYNC_SERVICE_SID].maps['T1.ParkedCalls'].items.b);
  assert.ok(Object.keys(state.taskrouter.tasks).length >= 1);
  assert.ok(Object.keys(state.calls.calls).length >= 1);
  assert.ok(describeForHumans(emu.origin).some((line) => line.includes(emu.origin)));
});

test('another API area plugs in with a module of routes', async () => {
  const streams = {
    name: 'testStreams',
    init: () => ({ streams: new Map() }),
    routes(router, ctx) {
      router.post(
        '/v1/Services/:service/Streams',
        (req) => {
          const sid = ctx.lib.newSid('TO');
          ctx.state.testStreams.streams.set(sid, req.body.UniqueName);
          return { status: 201, body: { sid, unique_name: req.body.UniqueName, service_sid: req.params.service } };
        },
        { product: 'sync' },
      );
    },
    snapshot: (state) => Object.fromEntries(state.streams),
  };
  const extended = await startEmulator({ port: 0, areas: [...AREAS, streams] });
  try {
    const stream = await emulatorClient(extended).sync.v1.services(extended.functionEnv().SYNC_SERVICE_SID).syncStreams.create({ uniqueName: 'events' });
    assert.equal(stream.uniqueName, 'events');
    assert.deepEqual((await (await fetch(`${extended.origin}/`)).json()).testStreams, { [stream.sid]: 'events' });
  } finally {
    await extended.close();
  }
});

test('Sync write budget depends on the payload size: 20/s up to 1 KiB, 2/s from 10 KiB, 20 KiB/s between', async () => {
  // A clock that stands still, so every write of a burst falls in the same second however slow
  // the machine is.
  let t = Date.parse('2025-01-01T00:00:00Z');
  const still = await startEmulator({ port: 0, clock: { now: () => t, advance: (ms) => (t += Number(ms) || 0) } });
  try {
    const docs = emulatorClient(still).sync.v1.services(still.functionEnv().SYNC_SERVICE_SID).documents;
    const burst = async (doc, bytes, n) => {
      let ok = 0;
      for (let i = 0; i < n; i += 1) {
        try {
          await docs(doc).update({ data: { i, pad: 'x'.repeat(bytes) } });
          ok += 1;
        } catch (err) {
          assert.equal(err.code, 54009);
        }
      }
      return ok;
    };
    const cases = [
      ['budget-small', 900, 20],
      ['budget-large', 10 * 1024, 2],
      ['budget-mid', 4 * 1024 - 30, 5],
    ];
    for (const [name] of cases) await docs.create({ uniqueName: name, data: {} });
    t += 2000;
    for (const [name, bytes, allowed] of cases) assert.equal(await burst(name, bytes, allowed + 3), allowed, `${name}: ${bytes} bytes`);
    t += 1000;
    assert.equal(await burst('budget-large', 10 * 1024, 1), 1, 'the next second has budget again');
    assert.equal(await burst('budget-small', 900, 20), 20);
    // A test that sets the clock back an hour finds the budget of its own second, not the writes
    // made "later" (a held clock would otherwise count them as recent for ever).
    t -= 3600 * 1000;
    assert.equal(await burst('budget-small', 900, 23), 20, 'writes after now are in no window');
  } finally {
    await still.close();
  }
});

test('webhook connection overrides: #rc/#rp redeliver a 5xx, the fragment is neither sent nor signed', async () => {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    res.writeHead(seen.length < 3 ? 503 : 200);
    res.end('ok');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${server.address().port}/cb`;
    const delivery = await emu.ctx.deliver(`${base}#rc=3&rp=5xx,ct,rt`, { CallSid: 'CA1' });
    assert.deepEqual(
      delivery.attempts.map((a) => a.status),
      [503, 503, 200],
    );
    assert.deepEqual(seen, ['/cb', '/cb', '/cb']);
    const none = await emu.ctx.deliver(`${base}#rc=3&rp=4xx`, { CallSid: 'CA1' });
    assert.equal(none.attempts.length, 1, 'a 200 is not redelivered');
    seen.length = 0;
    const noOverrides = await emu.ctx.deliver(base, {});
    assert.deepEqual([noOverrides.attempts.length, noOverrides.status], [1, 503], 'no fragment: one attempt');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
