// The wallboard end to end in headless Chromium, against the stack `npm start` runs (emulator +
// twilio-run): TaskRouter events go through the real queue-stats function into Sync, and the page
// receives them live through the emulator's Sync stand-in. Screenshots go to docs/img/.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startStack } = require('./helpers/stack');
const { launchBrowser } = require('./helpers/browser');
const { root } = require('./helpers/runtime');
const { sid } = require('./helpers/emulator-client');

const KEY = 'tv-key-' + 'x'.repeat(40);
const TTL = 8; // seconds: tokens are refreshed several times during the run
const IMG = path.join(root, 'docs', 'img');
let stack;
let docsStack; // QUEUE_STATS_LAYOUT=documents
let browser;
const queues = {};

before(async () => {
  const env = { WALLBOARD_KEY: KEY, WALLBOARD_TOKEN_TTL: String(TTL), STAFFING_DEFAULT_AHT_SECONDS: '180' };
  [stack, docsStack, browser] = await Promise.all([startStack({ env }), startStack({ env: { ...env, QUEUE_STATS_LAYOUT: 'documents' } }), launchBrowser()]);
  for (const name of ['Sales', 'Support', 'Billing']) {
    queues[name] = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: name })).sid;
    for (let i = 0; i < 3; i += 1) await stack.control('POST', `/emulator/taskqueues/${queues[name]}/workers`, { friendlyName: `${name}-agent-${i}`, activity: i === 2 ? 'Offline' : 'Available' });
  }
  fs.mkdirSync(IMG, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
  if (docsStack) await docsStack.stop();
});

const step = (queue, task, name, body = {}) => stack.control('POST', `/emulator/taskqueues/${queue}/tasks/${task}/${name}`, { channel: 'voice', ...body });
const tile = (page, queue) => page.locator(`.tile[data-sid="${queue}"]`);
const waitingOf = async (page, queue) => Number(await tile(page, queue).locator('.waiting').textContent());

async function openBoard(fragment, query = '', size) {
  const page = await browser.newPage(size);
  await page.goto(stack.rt.url(`/wallboard/index.html${query}#${fragment}`));
  return page;
}

test('the board loads with the wallboard key, shows every queue, and keeps the key out of the URL', async () => {
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`);
  await page.waitForSelector('#connection[data-state="connected"]');
  for (const q of Object.values(queues)) await tile(page, q).waitFor();
  assert.equal(await page.locator('.tile').count(), Object.keys(queues).length);
  assert.ok(!page.url().includes(KEY), `the key left the address bar: ${page.url()}`);
  assert.match(await tile(page, queues.Sales).locator('.agents').textContent(), /^2 \/ 0 \/ 3$/);
  await page.close();
});

test('a TaskRouter event updates the tile within 2 s, and the oldest wait ticks', async () => {
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`);
  await tile(page, queues.Support).waitFor();
  assert.equal(await waitingOf(page, queues.Support), 0);
  await step(queues.Support, sid('WT'), 'entered', { ageSeconds: 5 });
  const delivered = Date.now();
  await page.waitForFunction((q) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent === '1', queues.Support, { timeout: 2000 });
  const latency = Date.now() - delivered;
  const first = await tile(page, queues.Support).locator('.oldest').textContent();
  await page.waitForFunction(([q, before]) => document.querySelector(`.tile[data-sid="${q}"] .oldest`).textContent !== before, [queues.Support, first], { timeout: 2500 });
  const second = await tile(page, queues.Support).locator('.oldest').textContent();
  const secs = (s) => Number(s.split(':')[0]) * 60 + Number(s.split(':')[1]);
  assert.ok(secs(second) > secs(first) && secs(first) >= 5, `oldest wait ${first} -> ${second}`);
  console.log(`tile updated ${latency} ms after the event was delivered`);
  await page.close();
});

test('a tile turns red when its SLA breaches and back when it recovers', async () => {
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`);
  const q = queues.Billing;
  await tile(page, q).waitFor();
  const late = sid('WT');
  await step(q, late, 'entered', { ageSeconds: 45 });
  await step(q, late, 'accepted');
  await page.waitForFunction((s) => document.querySelector(`.tile[data-sid="${s}"]`).dataset.status === 'alert', q, { timeout: 2000 });
  assert.match(await tile(page, q).locator('.badge').textContent(), /ALERT/);
  assert.match(await tile(page, q).locator('.reasons').textContent(), /SLA 30 s 0% < 80%/);
  await page.screenshot({ path: path.join(IMG, 'wallboard.png') });
  for (let i = 0; i < 9; i += 1) {
    const t = sid('WT');
    await step(q, t, 'entered');
    await step(q, t, 'accepted');
  }
  await page.waitForFunction((s) => document.querySelector(`.tile[data-sid="${s}"] .sla`).textContent === '90%', q, { timeout: 2000 });
  assert.equal(await tile(page, q).getAttribute('data-status'), 'ok');
  assert.match(await tile(page, q).locator('.badge').textContent(), /OK/);
  await page.close();
});

test("the board loads with a supervisor's Flex token; an agent's token and a wrong key are refused", async () => {
  const supervisor = stack.emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token;
  let page = await openBoard(`token=${encodeURIComponent(supervisor)}`);
  await page.waitForSelector('#connection[data-state="connected"]');
  await tile(page, queues.Sales).waitFor();
  assert.ok(!page.url().includes(supervisor));
  await page.close();

  const agent = stack.emu.makeToken({ identity: 'al', roles: ['agent'] }).token;
  for (const [label, fragment] of [
    ['agent token', `token=${encodeURIComponent(agent)}`],
    ['wrong key', `key=${'y'.repeat(47)}`],
  ]) {
    page = await openBoard(fragment);
    await page.waitForSelector('#connection[data-state="denied"]', { timeout: 5000 });
    assert.match(await page.locator('#message').textContent(), /Access refused: (Forbidden|Unauthorized)/, label);
    assert.equal(await page.locator('.tile').count(), 0, `${label}: no queue is shown`);
    await page.evaluate(() => localStorage.clear());
    await page.close();
  }
});

test('the board survives a dropped connection: tiles go stale, it reconnects by itself and resyncs', async () => {
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`);
  await page.waitForSelector('#connection[data-state="connected"]');
  await tile(page, queues.Sales).waitFor();
  const before = await waitingOf(page, queues.Sales);
  await stack.control('POST', '/emulator/sync/drop', { refuseMs: 1500 });
  await page.waitForSelector('#connection:not([data-state="connected"])', { timeout: 2000 });
  await page.waitForSelector(`.tile.stale[data-sid="${queues.Sales}"]`, { timeout: 2000 });
  assert.match(await tile(page, queues.Sales).locator('.badge').textContent(), /STALE/);
  await step(queues.Sales, sid('WT'), 'entered'); // while disconnected
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: 10000 });
  await page.waitForFunction(([q, n]) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent === String(n), [queues.Sales, before + 1], { timeout: 2000 });
  assert.equal(await page.locator('.tile.stale').count(), 0);
  await step(queues.Sales, sid('WT'), 'entered'); // and live again
  await page.waitForFunction(([q, n]) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent === String(n), [queues.Sales, before + 2], { timeout: 2000 });
  await page.close();
});

test('the board survives a token expiry: refresh fails, the token expires, the page gets a new one and goes on', async () => {
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`);
  await page.waitForSelector('#connection[data-state="connected"]');
  let blocked = true;
  let refused = 0;
  await page.route('**/wallboard-token', (route) => {
    if (!blocked) return route.continue();
    refused += 1;
    return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'test: token service down' }) });
  });
  // The token (TTL 8 s) expires without a refresh: Sync closes the connection.
  await page.waitForSelector('#connection[data-state="disconnected"]', { timeout: (TTL + 3) * 1000 });
  assert.ok(refused >= 1, 'the page tried to refresh the token before it expired');
  blocked = false;
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: 8000 });
  const before = await waitingOf(page, queues.Support);
  await step(queues.Support, sid('WT'), 'entered');
  await page.waitForFunction(([q, n]) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent === String(n), [queues.Support, before + 1], { timeout: 2000 });
  await page.close();
});

test('kiosk mode: no chrome, and pages rotate when the queues do not fit', async () => {
  for (const name of ['Claims', 'Renewals', 'Retention', 'Spanish', 'VIP']) {
    queues[name] = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: name })).sid;
    await stack.control('POST', `/emulator/taskqueues/${queues[name]}/workers`, { friendlyName: `${name}-agent`, activity: 'Available' });
  }
  for (const [name, waiting, age] of [
    ['Claims', 7, 130],
    ['Retention', 4, 70],
    ['VIP', 2, 20],
  ]) {
    for (let i = 0; i < waiting; i += 1) await step(queues[name], sid('WT'), 'entered', { ageSeconds: age });
  }
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`, '?kiosk=1&rotate=2&grid=3x2&order=name', { width: 1920, height: 1080 });
  await page.waitForSelector('#connection[data-state="connected"]');
  await page.waitForSelector('#page-indicator:has-text("page 1 / 2")');
  assert.equal(await page.locator('#controls').isVisible(), false, 'no chrome in kiosk mode');
  assert.equal(await page.locator('.tile').count(), 6);
  const firstPage = await page.locator('.tile').evaluateAll((els) => els.map((e) => e.dataset.sid));
  // Polled on a timer rather than per animation frame: under load headless Chromium may skip
  // frames long enough to miss a 2 s page.
  const onPage = (n) => page.waitForFunction((want) => document.querySelector('#page-indicator').dataset.page === want, String(n), { timeout: 10000, polling: 100 });
  await onPage(2);
  const secondPage = await page.locator('.tile').evaluateAll((els) => els.map((e) => e.dataset.sid));
  assert.equal(firstPage.length + secondPage.length, Object.keys(queues).length);
  assert.deepEqual(
    firstPage.filter((s) => secondPage.includes(s)),
    [],
    'each queue on one page',
  );
  await onPage(1);
  await page.close();
  // The grid the page picks itself: all eight on one page at 1920×1080, alerts first.
  const auto = await openBoard(`key=${encodeURIComponent(KEY)}`, '?kiosk=1', { width: 1920, height: 1080 });
  await auto.waitForSelector('#connection[data-state="connected"]');
  await auto.waitForFunction((n) => document.querySelectorAll('.tile').length === n, Object.keys(queues).length);
  assert.equal(await auto.locator('#page-indicator').textContent(), '', 'one page');
  assert.equal(await auto.locator('.tile').first().getAttribute('data-status'), 'alert', 'alerts first');
  await auto.screenshot({ path: path.join(IMG, 'wallboard-kiosk.png') });
  await auto.close();
});

test('channel filter and queue selection live in the URL; a queue removed from TaskRouter disappears', async () => {
  const page = await openBoard(`key=${encodeURIComponent(KEY)}`, `?channel=voice&queues=Sales,${queues.VIP}`);
  await tile(page, queues.VIP).waitFor();
  assert.equal(await page.locator('.tile').count(), 2);
  assert.equal(await page.locator('#channel').inputValue(), 'voice');
  await page.reload();
  await tile(page, queues.Sales).waitFor();
  assert.equal(await page.locator('.tile').count(), 2, 'the view survives a reload (the key is kept, the fragment is gone)');
  await page.selectOption('#channel', 'chat');
  assert.match(page.url(), /channel=chat/);
  await page.close();
  const board = await openBoard(`key=${encodeURIComponent(KEY)}`);
  await tile(board, queues.Spanish).waitFor();
  await stack.control('DELETE', `/emulator/taskqueues/${queues.Spanish}`);
  await tile(board, queues.Spanish).waitFor({ state: 'detached', timeout: 2000 });
  delete queues.Spanish;
  // Agents needed now, per tile: the queue's arrivals of the last 30 minutes through /staffing.
  const expected = await fetch(stack.rt.url(`/staffing?queueSid=${queues.Billing}&thresholdSeconds=30&target=0.8&ahtSeconds=300`), { headers: { Authorization: `Wallboard ${KEY}` } }).then((r) =>
    r.json(),
  );
  assert.equal(expected.callsPerInterval, 10); // one late and nine quick arrivals (SLA test)
  await tile(board, queues.Billing).locator('.needed').waitFor();
  assert.equal(await tile(board, queues.Billing).locator('.needed').textContent(), String(expected.agents));
  assert.match(await tile(board, queues.Billing).locator('.staffing').textContent(), /10 arrivals in the last 30 min · AHT 300 s \(wallboard default, not measured\)/);
  await board.screenshot({ path: path.join(IMG, 'wallboard.png'), fullPage: true });
  await board.close();
  assert.deepEqual(browser.errors, []);
});

test('documents layout: the page follows the index and opens only the documents of the queues on screen', async () => {
  const made = {};
  for (const name of ['North', 'South', 'East']) made[name] = (await docsStack.control('POST', '/emulator/taskqueues', { friendlyName: name })).sid;
  const page = await browser.newPage();
  await page.goto(docsStack.rt.url(`/wallboard/index.html?queues=North,South#key=${encodeURIComponent(KEY)}`));
  await page.waitForSelector(`.tile[data-sid="${made.North}"]`);
  await page.waitForSelector(`.tile[data-sid="${made.South}"]`);
  assert.equal(await page.locator('.tile').count(), 2);
  const subscriptions = () => docsStack.emu.snapshot().syncLive.connections.flatMap((c) => c.subscriptions);
  assert.deepEqual(subscriptions().sort(), ['document:queueStats.' + made.North, 'document:queueStats.' + made.South, 'map:queueStats.index'].sort());
  await docsStack.control('POST', `/emulator/taskqueues/${made.North}/tasks/${sid('WT')}/entered`, { channel: 'chat' });
  await page.waitForFunction((q) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent === '1', made.North, { timeout: 2000 });
  await docsStack.control('DELETE', `/emulator/taskqueues/${made.South}`);
  await page.locator(`.tile[data-sid="${made.South}"]`).waitFor({ state: 'detached', timeout: 2000 });
  await page.close();
});

test("the pinned twilio-sync bundle is served and has the client interface the page uses, as does the emulator's stand-in", async () => {
  const page = await browser.newPage();
  await page.goto(stack.rt.url('/wallboard/config.json'));
  await page.addScriptTag({ url: stack.rt.url('/wallboard/vendor/twilio-sync.js') });
  await page.addScriptTag({ url: `${stack.emu.origin}/emulator/sync/client.js` });
  const used = ['on', 'removeListener', 'updateToken', 'map', 'document', 'shutdown'];
  const missing = await page.evaluate((names) => {
    const sdk = window.Twilio && window.Twilio.Sync && window.Twilio.Sync.Client;
    const standIn = window.EmulatorSync && window.EmulatorSync.Client;
    const lacks = (cls) => (typeof cls !== 'function' ? ['(no class)'] : names.filter((n) => typeof cls.prototype[n] !== 'function'));
    return { sdk: lacks(sdk), standIn: lacks(standIn), version: sdk && sdk.version };
  }, used);
  assert.deepEqual(missing.sdk, [], 'Twilio.Sync.Client');
  assert.deepEqual(missing.standIn, [], 'EmulatorSync.Client');
  assert.equal(missing.version, require('twilio-sync/package.json').version);
  await page.close();
});

test('the what-if panel computes staffing through /staffing and names a bad parameter', async () => {
  const supervisor = stack.emu.makeToken({ identity: 'sam', roles: ['supervisor'] }).token;
  const page = await openBoard(`token=${encodeURIComponent(supervisor)}`);
  await page.waitForSelector('#connection[data-state="connected"]');
  await page.click('#what-if summary');
  assert.equal(await page.inputValue('#what-if-form [name=thresholdSeconds]'), '30', "the board's threshold");
  await page.fill('#what-if-form [name=thresholdSeconds]', '20'); // the reference values' threshold
  await page.fill('#what-if-form [name=shrinkage]', '30%');
  await page.fill('#what-if-form [name=agents]', '13');
  await page.click('#what-if-form button');
  await page.waitForSelector('#what-if-result:not([aria-busy]) p');
  const text = await page.locator('#what-if-result').textContent();
  assert.match(text, /14 agents on the phones, 20 scheduled · 10\.00 Erlangs · SLA 89% · P\(wait\) 17% · ASA 7\.8 s/);
  assert.match(text, /With 13 agents: SLA 80%, ASA 17\.1 s/);
  await page.fill('#what-if-form [name=target]', '150%');
  await page.click('#what-if-form button');
  await page.waitForFunction(() => /target/.test(document.querySelector('#what-if-result').textContent) && !/Erlangs/.test(document.querySelector('#what-if-result').textContent));
  assert.match(await page.locator('#what-if-result').textContent(), /target "150%" is out of range/);
  await page.close();
});

test('the page reads the board service with its read-only grant, a queue created later included; other identities are refused', async () => {
  const emu = docsStack.emu;
  const env = emu.functionEnv();
  const west = (await docsStack.control('POST', '/emulator/taskqueues', { friendlyName: 'West' })).sid;
  const page = await browser.newPage();
  await page.goto(docsStack.rt.url(`/wallboard/index.html#key=${encodeURIComponent(KEY)}`));
  await page.waitForSelector(`.tile[data-sid="${west}"]`);
  const granted = emu.snapshot().syncLive.permissions;
  assert.ok(Object.keys(granted).length >= 2 && Object.values(granted).every((p) => p.read && !p.write && !p.manage), JSON.stringify(granted));
  // A queue created after the token was minted: the statistics writer granted its document.
  const later = (await docsStack.control('POST', '/emulator/taskqueues', { friendlyName: 'Later' })).sid;
  await page.waitForSelector(`.tile[data-sid="${later}"]`, { timeout: 10000 });
  // A valid Sync token of another identity reads nothing of the board service (ACL on).
  const twilio = require('twilio');
  const token = new twilio.jwt.AccessToken(env.ACCOUNT_SID, env.API_KEY, env.API_SECRET, { identity: 'intruder', ttl: 60 });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: env.WALLBOARD_SYNC_SID }));
  const jwt = token.toJwt();
  const res = await fetch(`${emu.origin}/emulator/sync/connect`, { headers: { Authorization: `Bearer ${jwt}` } });
  const reader = res.body.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const connectionId = JSON.parse(/data: (.*)/.exec(first)[1]).connectionId;
  const open = await fetch(`${emu.origin}/emulator/sync/open`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ connectionId, type: 'map', id: 'queueStats.index' }),
  });
  assert.equal(open.status, 403);
  assert.equal((await open.json()).code, 54007);
  await reader.cancel();
  await page.close();
});

test('the channel picker offers the channels the server keeps (QUEUE_STATS_CHANNELS), named by /wallboard-token', async () => {
  const { startRuntime } = require('./helpers/runtime');
  const rt = await startRuntime({ env: { ...stack.emu.functionEnv(), WALLBOARD_KEY: KEY, QUEUE_STATS_CHANNELS: 'voice, SMS' } });
  try {
    const token = await fetch(rt.url('/wallboard-token'), { method: 'POST', headers: { Authorization: `Wallboard ${KEY}` } }).then((r) => r.json());
    assert.deepEqual(token.channels, ['voice', 'sms']);
    const options = (page) => page.locator('#channel option').evaluateAll((all) => all.map((o) => o.value));
    const page = await browser.newPage();
    await page.goto(rt.url(`/wallboard/index.html?channel=sms#key=${encodeURIComponent(KEY)}`));
    await tile(page, queues.Sales).waitFor();
    assert.deepEqual(await options(page), ['', 'voice', 'sms']);
    assert.equal(await page.locator('#channel').inputValue(), 'sms');
    // A channel the server does not keep is dropped from the view and the URL.
    await page.goto(rt.url('/wallboard/index.html?channel=video'));
    await tile(page, queues.Sales).waitFor();
    assert.equal(await page.locator('#channel').inputValue(), '');
    assert.doesNotMatch(page.url(), /channel=/);
    await page.close();
    // The default list, from the stack's own runtime.
    const board = await openBoard(`key=${encodeURIComponent(KEY)}`);
    await tile(board, queues.Sales).waitFor();
    assert.deepEqual(await options(board), ['', 'voice', 'chat', 'video']);
    await board.close();
  } finally {
    await rt.stop();
  }
});
