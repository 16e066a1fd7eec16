// The wallboard's screens in headless Chromium, against the stack `npm start` runs (emulator +
// twilio-run): tiles fit every screen from a phone to a 4K TV with the widest figures, wallboard
// mode never scrolls and pages when it must, alerts come first, 2,000 queues render and take a
// change, every state of the page has no axe-core violation, and the small things of issue 17
// (favicon, sign-in and refusal screens, ASA "–", the what-if panel). One stack, one browser.
// Timings are not asserted here: `npm run bench` prints them (scripts/bench-render.js).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startStack } = require('./helpers/stack');
const { launchBrowser } = require('./helpers/browser');
const { root } = require('./helpers/runtime');
const { sid } = require('./helpers/emulator-client');
const { addBoardQueues, worstCase } = require('./helpers/board-queues');
const { overflows, axeViolations } = require('./helpers/board-checks');

const KEY = 'screens-key-' + 's'.repeat(40);
const IMG = path.join(root, 'docs', 'img');
let stack;
let browser;
let worst; // SIDs of queues with the widest figures
let plain; // SIDs of quiet queues

before(async () => {
  [stack, browser] = await Promise.all([startStack({ env: { WALLBOARD_KEY: KEY, STAFFING_DEFAULT_AHT_SECONDS: '180' } }), launchBrowser()]);
  // Twelve queues with the widest figures (999 waiting, 59:5x, 100 %, 999 agents, ASA 999 s) and
  // four quiet ones, written as the statistics function leaves them.
  worst = await addBoardQueues(stack, 12, { prefix: 'Worst case', edit: (r) => worstCase(r, stack.emu.clock.now()) });
  plain = await addBoardQueues(stack, 4, { prefix: 'Quiet' });
  fs.mkdirSync(IMG, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

const keyFragment = `#key=${encodeURIComponent(KEY)}`;
async function openBoard(query, size, fragment = keyFragment) {
  const page = await browser.newPage(size);
  // The browser's storage is shared by its pages: a page opened without a fragment starts signed out.
  if (!fragment) await page.addInitScript(() => localStorage.clear());
  await page.goto(stack.rt.url(`/wallboard/index.html${query}${fragment}`));
  return page;
}
const selection = () => `queues=${[...worst, ...plain].join(',')}`;

test('tiles fit with the widest figures: wallboard mode at 1280×720, 1920×1080 and 3840×2160 never scrolls; normal mode on a phone and a 4K screen', async () => {
  const screens = [
    { kiosk: true, width: 1280, height: 720 },
    { kiosk: true, width: 1920, height: 1080 },
    { kiosk: true, width: 3840, height: 2160 },
    { kiosk: true, width: 390, height: 844 },
    { kiosk: false, width: 390, height: 844, shot: 'wallboard-phone.png' },
    { kiosk: false, width: 3840, height: 2160 },
  ];
  for (const s of screens) {
    const label = `${s.kiosk ? 'wallboard' : 'normal'} mode ${s.width}×${s.height}`;
    const page = await openBoard(`?${s.kiosk ? 'kiosk=1&rotate=600&' : ''}${selection()}`, { width: s.width, height: s.height });
    await page.waitForSelector('#connection[data-state="connected"]');
    await page.waitForFunction((n) => document.querySelectorAll('.tile').length >= n, s.kiosk ? 1 : 16);
    if (!s.kiosk) await page.locator('.tile .needed').first().waitFor();
    await page.evaluate(() => document.fonts.ready);
    if (process.env.SHOTS) await page.screenshot({ path: `/tmp/shot-${s.kiosk ? 'k' : 'n'}-${s.width}.png` });
    const bad = await overflows(page);
    assert.deepEqual(bad, [], `${label}: elements overflow their tile`);
    const scroll = await page.evaluate(() => ({ x: document.documentElement.scrollWidth - innerWidth, y: document.documentElement.scrollHeight - innerHeight }));
    assert.ok(scroll.x <= 0, `${label}: the page scrolls sideways by ${scroll.x} px`);
    if (s.kiosk) assert.ok(scroll.y <= 0, `${label}: wallboard mode scrolls by ${scroll.y} px`);
    const sizes = await page.evaluate(() => {
      const t = document.querySelector('.tile');
      const px = (sel) => parseFloat(getComputedStyle(t.querySelector(sel)).fontSize);
      return {
        tileWidth: t.getBoundingClientRect().width,
        big: px('.big'),
        small: Math.min(px('.age'), px('.lbl')),
        tiles: document.querySelectorAll('.tile').length,
        indicator: document.querySelector('#page-indicator').textContent,
      };
    });
    // Readable: the smallest text of a tile is at least 9 px, the big figures at least 3 % of the
    // screen's height in wallboard mode.
    assert.ok(sizes.small >= 9, `${label}: ${sizes.small} px text`);
    if (s.kiosk) assert.ok(sizes.big >= 0.03 * s.height, `${label}: big figures of ${sizes.big} px`);
    if (!s.kiosk && s.width >= 3840) assert.ok(sizes.tileWidth >= 600, `${label}: tiles ${sizes.tileWidth} px wide`);
    if (s.kiosk && sizes.tiles < 16) assert.match(sizes.indicator, /^page 1 \/ \d+ · \d+ queues? a page at a readable size, alerts first$/, `${label}: says it pages`);
    console.log(
      `${label}: ${sizes.tiles} tiles shown, tile ${Math.round(sizes.tileWidth)} px wide, big figures ${sizes.big.toFixed(1)} px, smallest text ${sizes.small.toFixed(1)} px${sizes.indicator ? `, "${sizes.indicator}"` : ''}`,
    );
    if (s.shot) await page.screenshot({ path: path.join(IMG, s.shot) });
    await page.close();
  }
  assert.deepEqual(browser.errors, []);
});

test('wallboard mode shows alerts first (?order=name and config to change it); a fixed ?grid= pages', async () => {
  const page = await openBoard(`?kiosk=1&rotate=600&grid=4x2&${selection()}`, { width: 1920, height: 1080 });
  await page.waitForSelector('#page-indicator[data-pages="2"]');
  const first = await page.locator('.tile').evaluateAll((els) => els.map((e) => e.dataset.status));
  assert.deepEqual(first, Array(8).fill('alert'), 'page 1: queues in alert');
  await page.close();
  const byName = await openBoard(`?kiosk=1&rotate=600&order=name&grid=4x2&${selection()}`, { width: 1920, height: 1080 });
  await byName.waitForSelector('#page-indicator[data-pages="2"]');
  const names = await byName.locator('.tile .name').allTextContents();
  assert.deepEqual(names.slice(0, 4), ['Quiet 0000', 'Quiet 0001', 'Quiet 0002', 'Quiet 0003']);
  await byName.close();
  // A quiet queue that turns red comes to the front of an alerts-first board.
  const board = await openBoard(`?order=alerts&${selection()}`, { width: 1280, height: 800 });
  await board.locator(`.tile[data-sid="${plain[0]}"]`).waitFor();
  for (let i = 0; i < 7; i += 1) await stack.control('POST', `/emulator/taskqueues/${plain[0]}/tasks/${sid('WT')}/entered`, { channel: 'voice' });
  await board.waitForFunction((q) => document.querySelector(`.tile[data-sid="${q}"]`).dataset.status === 'alert', plain[0]);
  const order = await board.locator('.tile').evaluateAll((els) => els.map((e) => e.dataset.status));
  // 11 worst-case queues (the first of them was made through the real path: quiet) and this one.
  assert.deepEqual(order.slice(0, 12), Array(12).fill('alert'));
  assert.ok(!order.slice(12).includes('alert'));
  await board.close();
});

test('every state of the board has no axe-core violation: sign-in, refused, normal, wallboard, stale', async () => {
  const results = {};
  const signIn = await openBoard('', undefined, '');
  await signIn.waitForSelector('body[data-screen="sign-in"]');
  results['sign-in'] = await axeViolations(signIn);
  await signIn.close();

  const refused = await openBoard('', undefined, `#key=${'n'.repeat(44)}`);
  await refused.waitForSelector('body[data-screen="refused"]');
  results.refused = await axeViolations(refused);
  await refused.evaluate(() => localStorage.clear());
  await refused.close();

  const normal = await openBoard(`?${selection()}`);
  await normal.locator('.tile .needed').first().waitFor();
  results.normal = await axeViolations(normal);
  await normal.click('#queues-button');
  results['normal, queue picker open'] = await axeViolations(normal);
  await normal.click('#queues-close');
  await normal.click('#what-if summary');
  results['normal, what-if open'] = await axeViolations(normal);
  await stack.control('POST', '/emulator/sync/drop', { refuseMs: 4000 });
  await normal.waitForSelector('.tile.stale');
  results.stale = await axeViolations(normal);
  await normal.close();
  // The stale state has been checked (the refusal outlasted it): end the refusal now rather than
  // let the wallboard page below wait out the rest of the 4 s and the client's backoff (~4 s). A
  // drop with refuseMs 0 closes no page of this test (the stale one is closed) and refuses nothing.
  await stack.control('POST', '/emulator/sync/drop', { refuseMs: 0 });

  const kiosk = await openBoard(`?kiosk=1&${selection()}`, { width: 1920, height: 1080 });
  await kiosk.waitForSelector('#connection[data-state="connected"]');
  await kiosk.locator('.tile').first().waitFor();
  results.wallboard = await axeViolations(kiosk);
  await kiosk.close();
  for (const [state, violations] of Object.entries(results)) assert.deepEqual(violations, [], `${state}: axe-core violations`);
});

test('sign-in and refusal show the form only; a refused board takes another credential; no request leaves for twilio.com', async () => {
  const signIn = await openBoard('', undefined, '');
  const outside = [];
  signIn.on('request', (r) => !r.url().startsWith(stack.rt.base) && !r.url().startsWith(stack.emu.origin) && !r.url().startsWith('data:') && outside.push(r.url()));
  await signIn.waitForSelector('body[data-screen="sign-in"]');
  for (const sel of ['#controls', '#what-if', '#tiles', '#summary']) assert.equal(await signIn.locator(sel).isVisible(), false, `sign-in: ${sel} hidden`);
  assert.equal(await signIn.getByLabel('Key or token', { exact: true }).count(), 1, 'the credential field has a label');
  await signIn.close();

  const refused = await openBoard('', undefined, `#key=${'w'.repeat(44)}`);
  refused.on('request', (r) => !r.url().startsWith(stack.rt.base) && !r.url().startsWith(stack.emu.origin) && !r.url().startsWith('data:') && outside.push(r.url()));
  await refused.waitForSelector('body[data-screen="refused"]');
  for (const sel of ['#controls', '#what-if']) assert.equal(await refused.locator(sel).isVisible(), false, `refused: ${sel} hidden`);
  assert.match(await refused.locator('#message').textContent(), /Access refused/);
  await refused.getByLabel('Key or token', { exact: true }).fill(KEY);
  await refused.click('#sign-in button[type=submit]');
  await refused.waitForSelector('body[data-screen="board"] #connection[data-state="connected"]');
  await refused.locator('.tile').first().waitFor();
  assert.equal(await refused.locator('#controls').isVisible(), true);
  await refused.waitForTimeout(300);
  assert.deepEqual(outside, [], 'requests outside the service and the emulator (a favicon from twilio.com)');
  await refused.close();
});

test('ASA reads "–" for a queue with nothing accepted; the what-if panel says computing, drops the old answer, and starts at the board threshold', async () => {
  const page = await openBoard(`?queues=${plain[1]}`);
  await page.locator(`.tile[data-sid="${plain[1]}"]`).waitFor();
  assert.equal(await page.locator(`.tile[data-sid="${plain[1]}"] .asa`).textContent(), '–');
  await page.click('#what-if summary');
  assert.equal(await page.inputValue('#what-if-form [name=thresholdSeconds]'), '30');
  await page.click('#what-if-form button');
  await page.waitForSelector('#what-if-result b');
  let release;
  const held = new Promise((r) => (release = r));
  await page.route('**/staffing', async (route) => (await held, route.continue()));
  await page.fill('#what-if-form [name=callsPerInterval]', '200');
  await page.click('#what-if-form button');
  await page.waitForSelector('#what-if-result[aria-busy="true"]');
  assert.equal(await page.locator('#what-if-result').textContent(), 'computing…', 'the old answer is gone while computing');
  release();
  await page.waitForSelector('#what-if-result:not([aria-busy]) b');
  assert.match(await page.locator('#what-if-result').textContent(), /Erlangs/);
  await page.close();
});

test('the queue picker searches, selects all shown and none, and keeps the selection in the URL', async () => {
  const page = await openBoard('');
  await page.locator(`.tile[data-sid="${plain[3]}"]`).waitFor();
  await page.click('#queues-button');
  await page.fill('#queue-search', 'quiet');
  assert.equal(await page.locator('#queue-list input').count(), 4);
  await page.click('#queues-none');
  await page.waitForSelector('#tiles .empty');
  assert.equal(await page.locator('.tile').count(), 0);
  await page.click('#queues-all');
  await page.waitForFunction(() => document.querySelectorAll('.tile').length === 4);
  assert.deepEqual(await page.locator('.tile .name').allTextContents(), ['Quiet 0000', 'Quiet 0001', 'Quiet 0002', 'Quiet 0003']);
  assert.equal(new URL(page.url()).searchParams.get('queues'), 'Quiet 0000,Quiet 0001,Quiet 0002,Quiet 0003');
  await page.locator('#queue-list input').first().uncheck();
  await page.waitForFunction(() => document.querySelectorAll('.tile').length === 3);
  assert.equal(await page.locator('#queues-button').textContent(), 'Queues: 3 selected');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#queue-picker').isVisible(), false);
  await page.close();
});

test('2,000 queues: every tile rendered from one /staffing request, and a change shown', async () => {
  const many = await addBoardQueues(stack, 1984, { prefix: 'Many' });
  const page = await browser.newPage({ width: 1920, height: 1080 });
  const staffing = [];
  page.on('request', (r) => r.url().endsWith('/staffing') && staffing.push(JSON.parse(r.postData()).queues.length));
  await page.goto(stack.rt.url(`/wallboard/index.html${keyFragment}`));
  await page.waitForFunction((n) => document.querySelectorAll('.tile').length >= n, 2000, { timeout: 60000, polling: 500 });
  await page.locator(`.tile[data-sid="${many[1983]}"] .needed`).waitFor({ timeout: 60000 });
  const tiles = await page.locator('.tile').count();
  assert.equal(tiles, 2000);
  assert.deepEqual(staffing, [tiles], 'one /staffing request for every tile');
  // A change through the real path (TaskRouter event -> statistics function -> Sync -> page).
  await stack.control('POST', `/emulator/taskqueues/${many[0]}/tasks/${sid('WT')}/entered`, { channel: 'voice' });
  await page.waitForFunction((q) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent === '1', many[0], { timeout: 10000 });
  assert.deepEqual(browser.errors, []);
  await page.close();
});
