// Board credentials read statistics and nothing else, on a Flex account as it is by default (Flex's
// Sync service with ACL off). A board token (the wallboard key's and a supervisor's) goes through
// the emulator's live Sync stand-in — the client the page uses offline, run here in Node — which
// enforces Sync's ACL for reads and writes as Twilio documents it.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const twilio = require('twilio');
const { startStack } = require('./helpers/stack');
const { emulatorClient } = require('./helpers/emulator-client');

const KEY = 'acl-key-' + 'z'.repeat(40);
let stack;
let env;
let queue;
let Client;
const clients = [];

/** The emulator's stand-in for the twilio-sync SDK, loaded as a browser would load it. */
function loadClient() {
  const window = {};
  new Function('window', fs.readFileSync(path.join(__dirname, '..', 'emulator', 'sync-live-client.js'), 'utf8'))(window);
  return window.EmulatorSync.Client;
}

function connect(token) {
  const client = new Client(token, { origin: stack.emu.origin });
  clients.push(client);
  return client;
}

/** A Sync token as the old wallboard-token made them: a grant on Flex's own service. */
function flexServiceToken(identity) {
  const t = new twilio.jwt.AccessToken(env.ACCOUNT_SID, env.API_KEY, env.API_SECRET, { identity, ttl: 600 });
  t.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: env.TWILIO_FLEX_SYNC_SID }));
  return t.toJwt();
}

async function refused(promise, status, label) {
  await assert.rejects(
    promise,
    (err) => {
      assert.equal(err.status, status, `${label}: ${err.message}`);
      return true;
    },
    label,
  );
}

before(async () => {
  stack = await startStack({ env: { WALLBOARD_KEY: KEY } });
  env = stack.emu.functionEnv();
  Client = loadClient();
  queue = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Acl' })).sid;
  // A parked call, as park-call leaves it in Flex's service: a caller's number and task attributes.
  const rest = emulatorClient(stack.emu);
  await rest.sync.v1.services(env.SYNC_SERVICE_SID).syncMaps.create({ uniqueName: 'Global.ParkedCalls' });
  await rest.sync.v1
    .services(env.SYNC_SERVICE_SID)
    .syncMaps('Global.ParkedCalls')
    .syncMapItems.create({ key: 'CA' + '1'.repeat(32), data: { from: '+15551230000', workerSid: 'WK' + '2'.repeat(32) } });
  for (let i = 0; i < 100 && !boardRecord(); i += 1) await new Promise((r) => setTimeout(r, 50));
  assert.ok(boardRecord(), 'the queue-stats function copied the record to the board service');
});

after(async () => {
  for (const c of clients) c.shutdown();
  if (stack) await stack.stop();
});

function boardRecord() {
  const board = stack.emu.state.sync.services.get(env.WALLBOARD_SYNC_SID);
  const map = [...board.maps.values()].find((m) => m.uniqueName === 'queueStats');
  return map && map.items.get(queue);
}

const flexService = () => stack.emu.state.sync.services.get(env.TWILIO_FLEX_SYNC_SID);
const stateOf = (sid) => JSON.stringify(stack.emu.snapshot().sync.services[sid]);

test("Flex's Sync service has ACL off, as on a Flex account by default: any token for it reads and writes parked calls", async () => {
  assert.equal((await emulatorClient(stack.emu).sync.v1.services(env.TWILIO_FLEX_SYNC_SID).fetch()).aclEnabled, false);
  const client = connect(flexServiceToken('wallboard-key'));
  const parked = await client.map({ id: 'Global.ParkedCalls', mode: 'open_existing' });
  const { items } = await parked.getItems();
  assert.equal(items[0].data.from, '+15551230000', "the old board token read callers' numbers");
  await parked.set('CA' + '3'.repeat(32), { from: '+15550000000', workerSid: 'WKmallory' });
  assert.ok([...flexService().maps.values()].find((m) => m.uniqueName === 'Global.ParkedCalls').items.has('CA' + '3'.repeat(32)), 'and wrote them');
  await parked.remove('CA' + '3'.repeat(32));
});

for (const [label, auth] of [
  ['the wallboard key', () => `Wallboard ${KEY}`],
  ['a supervisor', () => `Bearer ${stack.emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token}`],
]) {
  test(`${label}'s board token reads the statistics, and cannot read parked calls nor write any object`, async () => {
    const res = await fetch(stack.rt.url('/wallboard-token'), { method: 'POST', headers: { Authorization: auth() } });
    const info = await res.json();
    assert.equal(res.status, 200, JSON.stringify(info));
    const boardBefore = stateOf(env.WALLBOARD_SYNC_SID);
    const flexBefore = stateOf(env.TWILIO_FLEX_SYNC_SID);
    const client = connect(info.token);

    const stats = await client.map({ id: 'queueStats', mode: 'open_existing' });
    const { items } = await stats.getItems({ pageSize: 100 });
    assert.deepEqual(
      items.map((i) => i.key),
      [queue],
    );
    assert.equal(items[0].data.friendlyName, 'Acl');

    // Parked calls live in Flex's service; the token names the board service only.
    await refused(client.map({ id: 'Global.ParkedCalls', mode: 'open_existing' }), 404, 'open parked calls');
    await refused(client.map({ id: 'Global.ParkedCalls', mode: 'open_or_create' }), 403, 'create parked calls');
    await refused(client.map({ id: 'Global.ParkedCalls', mode: 'create_new' }), 403, 'create_new parked calls');
    await refused(client.map({ id: `${env.WORKER_SID || 'WK'}.ParkedCalls` }), 403, "a worker's parked calls");
    await refused(client.document({ id: 'pickups', mode: 'create_new' }), 403, 'create a document');

    // Nothing of the statistics can be changed: create, update, remove an item, remove the map.
    await refused(stats.set(queue, { sid: queue, friendlyName: 'Hacked' }), 403, 'update an item');
    await refused(stats.set('WQ' + 'f'.repeat(32), { sid: 'x' }), 403, 'create an item');
    await refused(stats.update(queue, { friendlyName: 'Hacked' }), 403, 'merge into an item');
    await refused(stats.remove(queue), 403, 'remove an item');
    await refused(stats.removeMap(), 403, 'remove the map');

    assert.equal(stateOf(env.WALLBOARD_SYNC_SID), boardBefore, 'the board service is unchanged');
    assert.equal(stateOf(env.TWILIO_FLEX_SYNC_SID), flexBefore, "Flex's service is unchanged");
    client.shutdown();
  });
}

test('with ACL on, Sync permissions are per object and identity: write changes items, manage removes the object, nothing creates', async () => {
  const rest = emulatorClient(stack.emu);
  const board = rest.sync.v1.services(env.WALLBOARD_SYNC_SID);
  await board.syncMaps.create({ uniqueName: 'scratch' });
  await board.documents.create({ uniqueName: 'note', data: { v: 1 } });
  const token = (identity) => {
    const t = new twilio.jwt.AccessToken(env.ACCOUNT_SID, env.API_KEY, env.API_SECRET, { identity, ttl: 600 });
    t.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: env.WALLBOARD_SYNC_SID }));
    return t.toJwt();
  };
  let client = connect(token('writer'));
  await refused(client.map({ id: 'scratch', mode: 'open_existing' }), 403, 'no permission: no read');
  await board.syncMaps('scratch').syncMapPermissions('writer').update({ read: true, write: true, manage: false });
  await board.documents('note').documentPermissions('writer').update({ read: true, write: true, manage: true });
  const map = await client.map({ id: 'scratch', mode: 'open_existing' });
  await map.set('a', { n: 1 });
  await map.update('a', { m: 2 });
  const item = (await rest.sync.v1.services(env.WALLBOARD_SYNC_SID).syncMaps('scratch').syncMapItems('a').fetch()).data;
  assert.deepEqual(item, { n: 1, m: 2 });
  await map.remove('a');
  await refused(map.removeMap(), 403, 'write without manage cannot remove the map');
  const doc = await client.document({ id: 'note', mode: 'open_existing' });
  await doc.update({ w: 2 });
  assert.deepEqual((await board.documents('note').fetch()).data, { v: 1, w: 2 });
  await doc.removeDocument();
  await refused(board.documents('note').fetch(), 404, 'removed with manage');
  await board.syncMaps('scratch').syncMapPermissions('writer').remove();
  client.shutdown();
  client = connect(token('writer'));
  await refused(client.map({ id: 'scratch', mode: 'open_existing' }), 403, 'a deleted permission reads nothing');
  await board.syncMaps('scratch').remove();
});
