// End to end through twilio-run and the emulator: what a request can learn about the configured
// wallboard key (nothing), and a Flex token in a URL's query string (refused, before IAM is asked).
// See docs/authorization.md. Run `npm run build` first.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('./helpers/runtime');
const { startEmulator } = require('../emulator');
const { postForm } = require('./helpers/emulator-client');

const KEY = 'k'.repeat(40);
let emu;
let rt; // WALLBOARD_KEY usable
let short; // WALLBOARD_KEY too short
let unset; // no WALLBOARD_KEY

before(async () => {
  emu = await startEmulator({ port: 0 });
  const env = { ...emu.functionEnv(), STAFFING_DEFAULT_AHT_SECONDS: '180' };
  [rt, short, unset] = await Promise.all([
    startRuntime({ env: { ...env, WALLBOARD_KEY: KEY } }),
    startRuntime({ env: { ...env, WALLBOARD_KEY: 'too-short-17chars' } }),
    startRuntime({ env: { ...env, WALLBOARD_KEY: '' } }),
  ]);
});

after(async () => {
  await Promise.all([rt, short, unset].filter(Boolean).map((r) => r.stop()));
  if (emu) await emu.close();
});

const staffing = (runtime, headers = {}, query = 'callsPerInterval=100') => fetch(runtime.url(`/staffing?${query}`), { headers });
const answer = async (res) => ({ status: res.status, body: await res.json() });

test('a refused wallboard key answers the same whether the key is wrong, too short or not configured', async () => {
  const wrong = await answer(await staffing(rt, { Authorization: `Wallboard ${'x'.repeat(40)}` }));
  assert.deepEqual(wrong, { status: 403, body: { error: 'Forbidden: this wallboard key is not accepted', code: 'wrong_wallboard_key' } });
  // The misconfigured key, even presented exactly, and a guess against it: the same answer.
  for (const presented of ['too-short-17chars', 'guess']) {
    assert.deepEqual(await answer(await staffing(short, { Authorization: `Wallboard ${presented}` })), wrong, presented);
  }
  assert.deepEqual(await answer(await staffing(unset, { Authorization: 'Wallboard guess' })), wrong);
  // The operator learns it from the log, not from the answer.
  assert.match(short.log(), /WALLBOARD_KEY is 17 characters/);
  assert.doesNotMatch(rt.log(), /WALLBOARD_KEY is/);
  // A good key still reads.
  assert.equal((await staffing(rt, { Authorization: `Wallboard ${KEY}` })).status, 200);
});

test('a Flex token in the query string of a GET is refused with a 400 naming it, before IAM is asked', async () => {
  const agent = emu.makeToken({ identity: 'ivy', roles: ['agent'] }).token;
  const from = emu.requests.length;
  const res = await answer(await staffing(rt, {}, `callsPerInterval=100&Token=${agent}`));
  assert.deepEqual([res.status, res.body.code, res.body.parameter], [400, 'token_in_url', 'Token'], JSON.stringify(res.body));
  assert.match(res.body.error, /Authorization: Bearer/);
  // Even with the header too: the token already sits in a URL.
  const both = await staffing(rt, { Authorization: `Bearer ${agent}` }, `callsPerInterval=100&Token=${agent}`);
  assert.equal(both.status, 400);
  assert.deepEqual(
    emu.requests.slice(from).filter((r) => r.product === 'iam'),
    [],
    'the token was not sent to IAM',
  );
  // In the header: accepted.
  const bearer = await staffing(rt, { Authorization: `Bearer ${agent}` });
  assert.equal(bearer.status, 200, JSON.stringify(await bearer.clone().json()));
  // In a POST body (the Flex plugins' way), form or JSON: accepted, unchanged.
  const form = await postForm(rt.url('/staffing'), { Token: agent, callsPerInterval: '100' });
  assert.equal(form.status, 200, JSON.stringify(form.body));
  const json = await fetch(rt.url('/staffing'), { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify({ Token: agent, callsPerInterval: '100' }) });
  assert.equal(json.status, 200);
});
