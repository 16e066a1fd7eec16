// One name per setting (README, "Settings and their aliases"): the functions' requireEnv reads a
// setting under its canonical name or a documented alias (values::env::ALIASES, through the auth
// wasm module), and refuses a setting given two different values under two of its names.
// - common/client's requireEnv itself, with the built wasm module;
// - end to end through twilio-run: /agents-live-token signs its Sync token with the API key given
//   only under its alias TWILIO_API_KEY/TWILIO_API_SECRET, and answers a 500 naming both variables
//   when API_KEY and TWILIO_API_KEY disagree.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { startEmulator } = require('../emulator');
const { verifyToken } = require('../emulator/sync-live');
const { startRuntime } = require('./helpers/runtime');

const common = path.join(__dirname, '..', 'functions', 'common');
globalThis.Runtime = globalThis.Runtime || {
  getFunctions: () => Object.fromEntries(['http', 'deadline', 'wasm'].map((n) => [`common/${n}`, { path: path.join(common, `${n}.private.js`) }])),
  getAssets: () => ({}), // the wasm glue then reads its module beside it
};
const { requireEnv, retrySettings } = require(path.join(common, 'client.private.js'));

const KEY = 'env-aliases-key-0123456789abcdef0123456789';
let emu;
let aliased; // the API key under its aliases only
let clash; // API_KEY and TWILIO_API_KEY different

before(async () => {
  emu = await startEmulator({ port: 0 });
  // The workspace under its canonical name only (the emulator gives both names).
  const { API_KEY, API_SECRET, TWILIO_FLEX_WORKSPACE_SID, ...env } = emu.functionEnv();
  assert.ok(TWILIO_FLEX_WORKSPACE_SID && env.WORKSPACE_SID);
  [aliased, clash] = await Promise.all([
    startRuntime({ env: { ...env, WALLBOARD_KEY: KEY, TWILIO_API_KEY: API_KEY, TWILIO_API_SECRET: API_SECRET } }),
    startRuntime({ env: { ...env, WALLBOARD_KEY: KEY, API_KEY, API_SECRET, TWILIO_API_KEY: `SK${'0'.repeat(32)}`, TWILIO_API_SECRET: API_SECRET } }),
  ]);
});

after(async () => {
  await Promise.all([aliased, clash].filter(Boolean).map((r) => r.stop()));
  if (emu) await emu.close();
});

const WS = `WS${'a'.repeat(32)}`;
const OTHER = `WS${'b'.repeat(32)}`;

test('requireEnv reads a setting under an alias, asked for by either name', () => {
  assert.equal(requireEnv({ TWILIO_FLEX_WORKSPACE_SID: WS }, 'WORKSPACE_SID'), WS);
  assert.equal(requireEnv({ WORKSPACE_SID: ` ${WS} ` }, 'TWILIO_FLEX_WORKSPACE_SID'), WS);
  assert.equal(requireEnv({ TWILIO_FLEX_WORKSPACE_SID: WS, WORKSPACE_SID: '' }, 'WORKSPACE_SID'), WS, 'a blank canonical name is unset');
  // Parking's Sync service and Flex's are two settings: they may differ.
  assert.equal(requireEnv({ SYNC_SERVICE_SID: 'IS1', TWILIO_FLEX_SYNC_SID: 'IS2' }, 'SYNC_SERVICE_SID'), 'IS1');
  assert.equal(requireEnv({ SYNC_SERVICE_SID: 'IS1', TWILIO_FLEX_SYNC_SID: 'IS2' }, 'TWILIO_FLEX_SYNC_SID'), 'IS2');
  assert.equal(requireEnv({ TWILIO_API_SECRET: 's' }, 'API_SECRET'), 's');
  // Both names with the same value: fine.
  assert.equal(requireEnv({ WORKSPACE_SID: WS, TWILIO_FLEX_WORKSPACE_SID: WS }, 'WORKSPACE_SID'), WS);
  // A setting without aliases reads as before.
  assert.equal(requireEnv({ WALLBOARD_KEY: 'k' }, 'WALLBOARD_KEY'), 'k');
});

test('the retry settings are read, or refused with a 500 naming the variable (never a silent default)', () => {
  assert.deepEqual(retrySettings({}), { limit: 5, minMs: 100, maxMs: 1000 });
  assert.deepEqual(retrySettings({ TWILIO_SERVICE_RETRY_LIMIT: '2', TWILIO_SERVICE_MIN_BACKOFF: '1', TWILIO_SERVICE_MAX_BACKOFF: '5' }), { limit: 2, minMs: 1, maxMs: 5 });
  for (const [variable, value] of [
    ['TWILIO_SERVICE_RETRY_LIMIT', 'five'],
    ['TWILIO_SERVICE_MIN_BACKOFF', '-1'],
    ['TWILIO_SERVICE_MAX_BACKOFF', '10'],
  ]) {
    assert.throws(
      () => retrySettings({ [variable]: value }),
      (err) => err.status === 500 && err.extra.variable === variable && err.message.includes(`${variable}="${value}"`),
      `${variable}=${value}`,
    );
  }
});

test('FUNCTION_BUDGET_MS is read, or refused with a 500 naming it', () => {
  const { runWithDeadline, remainingMs } = require(path.join(common, 'deadline.private.js'));
  assert.ok(runWithDeadline({ FUNCTION_BUDGET_MS: '1500' }, () => remainingMs()) <= 1000);
  assert.ok(runWithDeadline({}, () => remainingMs()) > 8000, 'the default is 9 s less the answer margin');
  for (const value of ['12s', '0', '20000']) {
    assert.throws(
      () => runWithDeadline({ FUNCTION_BUDGET_MS: value }, () => null),
      (err) => err.status === 500 && err.extra.parameter === 'FUNCTION_BUDGET_MS' && err.message.includes(`FUNCTION_BUDGET_MS="${value}"`),
      value,
    );
  }
});

test('requireEnv refuses a setting given two different values, naming both; unset names the variable asked for', () => {
  assert.throws(
    () => requireEnv({ WORKSPACE_SID: WS, TWILIO_FLEX_WORKSPACE_SID: OTHER }, 'TWILIO_FLEX_WORKSPACE_SID'),
    (err) => {
      assert.equal(err.status, 500);
      assert.equal(err.message, 'Server misconfigured: WORKSPACE_SID and TWILIO_FLEX_WORKSPACE_SID name the same setting with different values: set only WORKSPACE_SID (see .env.example).');
      assert.deepEqual(err.extra, { code: 'invalid_config', variable: 'WORKSPACE_SID' });
      return true;
    },
  );
  assert.throws(
    () => requireEnv({}, 'SYNC_SERVICE_SID'),
    (err) => err.status === 500 && /the environment variable SYNC_SERVICE_SID is not set/.test(err.message) && err.extra.variable === 'SYNC_SERVICE_SID',
  );
});

test('through twilio-run: staffing reads the workspace under its canonical name WORKSPACE_SID (TWILIO_FLEX_WORKSPACE_SID unset)', async () => {
  const queue = await fetch(`${emu.origin}/emulator/taskqueues`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ friendlyName: 'Aliased' }) }).then((r) =>
    r.json(),
  );
  const res = await fetch(aliased.url(`/staffing?queueSid=${queue.sid}&ahtSeconds=300`), { headers: { Authorization: `Wallboard ${KEY}` } });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.sources.arrivals, 'taskrouter');
});

test('through twilio-run: a token signed with the API key given under its aliases only', async () => {
  const res = await fetch(aliased.url('/agents-live-token'), { method: 'POST', headers: { Authorization: `Wallboard ${KEY}` } });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  // The emulator checks the signature and issuer against its API key and secret.
  const claims = verifyToken(emu.ctx, `Bearer ${body.token}`);
  assert.equal(claims.serviceSid, emu.functionEnv().WALLBOARD_SYNC_SID);
});

test('through twilio-run: API_KEY and TWILIO_API_KEY with different values are refused, naming both', async () => {
  const res = await fetch(clash.url('/agents-live-token'), { method: 'POST', headers: { Authorization: `Wallboard ${KEY}` } });
  const body = await res.json();
  assert.equal(res.status, 500, JSON.stringify(body));
  assert.match(body.error, /API_KEY and TWILIO_API_KEY name the same setting with different values: set only API_KEY/);
  assert.doesNotMatch(body.error, /SK[0-9a-f]{32}/, 'no key in the answer');
});
