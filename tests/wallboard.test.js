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
let browser;
const queues = {};

before(async () => {
  [stack, browser] = await Promise.all([startStack({ env: { WALLBOARD_KEY: KEY, WALLBOARD_TOKEN_TTL: String(TTL), STAFFING_DEFAULT_AHT_SECONDS: '180' } }), launchBrowser()]);
  for (const name of ['Sales', 'Support', 'Billing']) {
    queues[name] = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: name })).sid;
    for (let i = 0; i < 3; i += 1) await stack.control('POST', `/emulator/taskqueues/${queues[name]}/workers`, { friendlyName: `${name}-agent-${i}`, activity: i === 2 ? 'Offline' : 'Available' });
  }
  fs.mkdirSync(IMG, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
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
