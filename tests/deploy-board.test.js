// `npm run deploy` makes sure the wallboard's statistics Sync service exists with ACL on
// (scripts/deploy.js ensureBoardService), idempotently, through the real twilio client.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const { ensureBoardService, BOARD_SERVICE_NAME } = require('../scripts/deploy');
const { emulatorClient } = require('./helpers/emulator-client');

let emu;
let env;
const quiet = { log: () => {} };
before(async () => {
  emu = await startEmulator({ port: 0 });
  const { WALLBOARD_SYNC_SID, ...rest } = emu.functionEnv();
  env = rest; // as a first deploy: no WALLBOARD_SYNC_SID yet
});
after(() => emu && emu.close());

const services = async () => emulatorClient(emu).sync.v1.services.list();

test('creates the service once with ACL on, then finds it by name', async () => {
  const name = 'Board service of this test';
  const count = (await services()).length;
  const sid = await ensureBoardService(env, { name, ...quiet });
  const again = await ensureBoardService(env, { name, ...quiet });
  assert.equal(again, sid);
  const all = await services();
  assert.equal(all.length, count + 1, 'created once');
  const made = all.find((s) => s.sid === sid);
  assert.equal(made.friendlyName, name);
  assert.equal(made.aclEnabled, true);
});

test("a service found with ACL off gets it switched on; WALLBOARD_SYNC_SID is used when set; Flex's service is refused", async () => {
  const seeded = emu.functionEnv().WALLBOARD_SYNC_SID;
  await emulatorClient(emu).sync.v1.services(seeded).update({ aclEnabled: false });
  assert.equal(await ensureBoardService(env, { name: BOARD_SERVICE_NAME, ...quiet }), seeded);
  assert.equal((await emulatorClient(emu).sync.v1.services(seeded).fetch()).aclEnabled, true);
  const other = (await emulatorClient(emu).sync.v1.services.create({ friendlyName: 'Mine', aclEnabled: false })).sid;
  assert.equal(await ensureBoardService({ ...env, WALLBOARD_SYNC_SID: other }, quiet), other);
  assert.equal((await emulatorClient(emu).sync.v1.services(other).fetch()).aclEnabled, true);
  await assert.rejects(ensureBoardService({ ...env, WALLBOARD_SYNC_SID: env.TWILIO_FLEX_SYNC_SID }, quiet), /WALLBOARD_SYNC_SID is TWILIO_FLEX_SYNC_SID's service/);
});
