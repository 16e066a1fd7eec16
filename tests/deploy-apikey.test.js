// Deploying with an API key alone (TWILIO_API_KEY/TWILIO_API_SECRET, no AUTH_TOKEN): the Serverless
// Toolkit's client deploys to the emulator's serverless area authenticated by the key, and the env
// file twilio-run deploys from carries the key as its credentials, never as a service variable.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const { deployProject, twilioRunEnv, regionFlags } = require('../scripts/deploy');

function keyOnlyEnv(emu, overrides = {}) {
  const e = emu.functionEnv();
  const env = { ACCOUNT_SID: e.ACCOUNT_SID, TWILIO_API_ORIGIN: emu.origin, TWILIO_API_KEY: e.API_KEY, TWILIO_API_SECRET: e.API_SECRET, ...overrides };
  assert.equal(env.AUTH_TOKEN, undefined);
  return env;
}

test('npm run deploy works with an API key and secret alone (the emulator checks the key)', async () => {
  const emu = await startEmulator({ port: 0 });
  try {
    const env = keyOnlyEnv(emu);
    const r = await deployProject(env, { log: () => {} });
    assert.match(r.buildSid, /^ZB[0-9a-f]{32}$/);
    const environment = emu.ctx.state.serverless.environments.get(r.environmentSid);
    assert.equal(environment.build_sid, r.buildSid, 'the environment runs the build deployed with the key');

    const wrong = await deployProject(keyOnlyEnv(emu, { TWILIO_API_SECRET: 'not-the-secret' }), { log: () => {} }).then(
      () => null,
      (err) => err,
    );
    assert.ok(wrong, 'a wrong secret is refused');
    assert.match(String(wrong.message), /401|Authenticate|Unauthorized/i);
  } finally {
    await emu.close();
  }
});

test("twilio-run's env file carries the API key as the deploy's credentials, and the region as flags", () => {
  const env = { ACCOUNT_SID: `AC${'a'.repeat(32)}`, TWILIO_API_KEY: `SK${'b'.repeat(32)}`, TWILIO_API_SECRET: 'sekret', TWILIO_REGION: 'ie1', TWILIO_EDGE: 'dublin' };
  const file = twilioRunEnv(env);
  assert.equal(file.ACCOUNT_SID, env.TWILIO_API_KEY, 'twilio-run reads its username from ACCOUNT_SID');
  assert.equal(file.AUTH_TOKEN, 'sekret', 'and its password from AUTH_TOKEN (never deployed as a variable)');
  assert.equal(file.TWILIO_API_SECRET, undefined, 'the secret is not a service variable');
  assert.deepEqual(regionFlags(env), ['--region', 'ie1', '--edge', 'dublin']);
  // With the account's auth token only, that is what twilio-run gets.
  assert.deepEqual((({ ACCOUNT_SID, AUTH_TOKEN }) => ({ ACCOUNT_SID, AUTH_TOKEN }))(twilioRunEnv({ ACCOUNT_SID: env.ACCOUNT_SID, AUTH_TOKEN: 'tok' })), {
    ACCOUNT_SID: env.ACCOUNT_SID,
    AUTH_TOKEN: 'tok',
  });
  assert.throws(() => twilioRunEnv({ ACCOUNT_SID: env.ACCOUNT_SID }), /TWILIO_API_KEY and TWILIO_API_SECRET/);
});
