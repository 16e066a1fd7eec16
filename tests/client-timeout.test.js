// The production Twilio client (common/client's TimedClient, no TWILIO_API_ORIGIN) gives up on a
// server that never answers within the invocation's budget, so a Function answers JSON instead of
// being killed at 10 s. The server here accepts the connection and never answers.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const path = require('path');

const functions = path.join(__dirname, '..', 'functions');
// What the runtime provides: the paths of the private functions the helpers require.
globalThis.Runtime = {
  getFunctions: () => Object.fromEntries(['http', 'deadline', 'client', 'wasm'].map((n) => [`common/${n}`, { path: path.join(functions, 'common', `${n}.private.js`) }])),
  getAssets: () => ({}), // the wasm glue (requireEnv's alias table) then reads its module beside it
};
const { TimedClient, twilioClient, apiOrigin } = require(path.join(functions, 'common', 'client.private.js'));
const { runWithDeadline, DeadlineError } = require(path.join(functions, 'common', 'deadline.private.js'));

let server;
let url;
const sockets = new Set();

before(async () => {
  server = http.createServer(() => {}); // never answers
  server.on('connection', (s) => sockets.add(s));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}/2010-04-01/Accounts/AC00/Calls/CA00.json`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('without TWILIO_API_ORIGIN the client is the production one, requests unchanged', () => {
  const context = { ACCOUNT_SID: 'AC' + '0'.repeat(32), AUTH_TOKEN: 'secret' };
  assert.equal(apiOrigin(context), null);
  const client = twilioClient(context);
  assert.ok(client.httpClient instanceof TimedClient);
  assert.equal(client.httpClient.origin, null);
});

test("a request to a server that never answers fails within the invocation's budget", async () => {
  const client = new TimedClient(null); // production: no origin
  const started = Date.now();
  // A 1.5 s budget leaves 1 s for requests (500 ms are kept to answer).
  const err = await runWithDeadline({ FUNCTION_BUDGET_MS: '1500' }, () =>
    client.request({ method: 'get', uri: url, username: 'AC00', password: 'x', headers: {} }).then(
      () => assert.fail('the server never answers'),
      (e) => e,
    ),
  );
  const waited = Date.now() - started;
  assert.match(String(err && (err.code || err.message)), /ECONNABORTED|timeout/i);
  assert.ok(waited >= 900 && waited < 4000, `gave up after ${waited} ms, the budget's 1000 ms for requests`);
});

test('with no budget left, the request is not even sent', async () => {
  const client = new TimedClient(null);
  const before = sockets.size;
  await assert.rejects(
    runWithDeadline({ FUNCTION_BUDGET_MS: '600' }, async () => client.request({ method: 'get', uri: url, headers: {} })),
    (err) => err instanceof DeadlineError && err.status === 504,
  );
  assert.equal(sockets.size, before, 'no connection was opened');
});
