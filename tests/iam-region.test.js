// IAM's verdict on a Flex token and TWILIO_REGION, end to end (twilio-run, the real wasm, the
// emulator). A bad token is a 403 `invalid_token` whatever status IAM answers it with; only a
// 401/403 saying "Authenticate" (20003: wrong account credentials) is the server's 500.
// TWILIO_REGION/TWILIO_EDGE reach IAM, every REST request and the Sync token; a malformed value
// is a 500 naming the variable.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers/stack');

const KEY = 'wallboard-key-' + 'r'.repeat(40);
const stacks = [];
after(() => Promise.all(stacks.map((s) => s.stop())));

async function stack(env = {}) {
  const s = await startStack({ env: { WALLBOARD_KEY: KEY, ...env } });
  stacks.push(s);
  return s;
}

async function call(s, path, { method = 'GET', auth } = {}) {
  const res = await fetch(s.rt.url(path), { method, headers: auth ? { Authorization: auth } : {} });
  return { status: res.status, body: await res.json() };
}
const STAFFING = '/staffing?callsPerInterval=100&intervalMinutes=30&ahtSeconds=180';

test('a bad or expired token is 403 invalid_token, also when IAM answers it with 401/403; wrong credentials are a 500', async () => {
  const s = await stack();
  const good = s.emu.makeToken({ identity: 'ivy', roles: ['agent'] }).token;
  assert.equal((await call(s, STAFFING, { auth: `Bearer ${good}` })).status, 200);

  // IAM's 200 {valid: false} (the answer twilio-flex-token-validator's own tests model).
  let r = await call(s, STAFFING, { auth: 'Bearer not-a-flex-token' });
  assert.equal(r.status, 403);
  assert.equal(r.body.code, 'invalid_token');
  const brief = s.emu.makeToken({ identity: 'ivy', roles: ['agent'], ttl: 1 }).token;
  s.emu.clock.advance(2000);
  r = await call(s, STAFFING, { auth: `Bearer ${brief}` });
  assert.equal(r.status, 403);
  assert.match(r.body.error, /expired/i);

  // The same refusal as a REST error, 401 or 403: still the token's fault.
  for (const status of [401, 403]) {
    s.emu.failNext({ method: 'POST', path: /\/Tokens\/validate$/ }, { status, code: 20101, message: 'Invalid Access Token' });
    r = await call(s, STAFFING, { auth: `Bearer ${good}` });
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.code, 'invalid_token');
    assert.match(r.body.error, /Invalid Access Token \(code 20101\)/);
  }

  // "Authenticate" (20003) is what any Twilio API answers to wrong account credentials: our fault.
  s.emu.failNext({ method: 'POST', path: /\/Tokens\/validate$/ }, { status: 401, code: 20003, message: 'Authenticate' });
  r = await call(s, STAFFING, { auth: `Bearer ${good}` });
  assert.equal(r.status, 500);
  assert.match(r.body.error, /IAM refused this service's credentials .*20003.*ACCOUNT_SID and AUTH_TOKEN/);
});

test('TWILIO_REGION and TWILIO_EDGE reach IAM, the REST client and the Sync token', async () => {
  const s = await stack({ TWILIO_REGION: 'ie1', TWILIO_EDGE: 'dublin' });
  const supervisor = s.emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token;
  const from = s.emu.requests.length;
  const r = await call(s, '/wallboard-token', { method: 'POST', auth: `Bearer ${supervisor}` });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const hosts = new Set(s.emu.requests.slice(from).map((q) => q.headers['x-forwarded-host']));
  assert.ok(hosts.has('iam.dublin.ie1.twilio.com'), [...hosts].join(' '));
  assert.ok(hosts.has('sync.dublin.ie1.twilio.com'), [...hosts].join(' '));
  assert.deepEqual(
    [...hosts].filter((h) => !/\.dublin\.ie1\.twilio\.com$/.test(h)),
    [],
    'no request left the region',
  );
  const header = JSON.parse(Buffer.from(r.body.token.split('.')[0], 'base64url').toString('utf8'));
  assert.equal(header.twr, 'ie1', 'the Sync token names the region');
});

test('a TWILIO_REGION that is not a Twilio Region is refused with a 500 naming the variable', async () => {
  const s = await stack({ TWILIO_REGION: 'Ireland' });
  const agent = s.emu.makeToken({ identity: 'al', roles: ['agent'] }).token;
  const r = await call(s, STAFFING, { auth: `Bearer ${agent}` });
  assert.equal(r.status, 500);
  assert.match(r.body.error, /TWILIO_REGION must be a Twilio Region such as us1, ie1 or au1 \(got "Ireland"/);
  assert.equal(s.emu.requests.filter((q) => q.product === 'iam').length, 0, 'nothing was sent');
});
