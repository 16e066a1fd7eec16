// Parked calls on the board: the queue-statistics callback adds each queue's parked figures to its
// record (Flex's and the wallboard's copy in WALLBOARD_SYNC_SID) from the Global.ParkedCalls
// entries, with the TaskRouter events a park and a pickup cause. Through twilio-run, the emulator
// and the real twilio client: park-call, then the event of the parked task's wrap-up; pickup, then
// the event of the pickup task entering the queue. Each event's callback answers after the board's
// copy is written, so the figures are checked right after it; the wallboard page in headless
// Chromium shows them on the queue's tile within 2 s of that event (the same live path as the other tile
// figures, tests/wallboard.test.js).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers/stack');
const { emulatorClient, postForm, heldTask, sid } = require('./helpers/emulator-client');
const { launchBrowser } = require('./helpers/browser');

const KEY = 'parked-board-key-' + 'p'.repeat(32);
let stack;
let client;
let browser;
before(async () => {
  [stack, browser] = await Promise.all([startStack({ env: { WALLBOARD_KEY: KEY } }), launchBrowser()]);
  client = emulatorClient(stack.emu);
});
after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});
const parkedOnTile = (page, queue, count) =>
  page.waitForFunction(
    ([q, n]) => {
      const cell = document.querySelector(`.tile[data-sid="${q}"] .parked`);
      return cell && cell.dataset.count === String(n);
    },
    [queue, count],
    { timeout: 15000 },
  ); // the latency itself: `npm run bench` (bench-direct)

const env = () => stack.emu.functionEnv();
async function boardRecord(queueSid) {
  return (await client.sync.v1.services(env().WALLBOARD_SYNC_SID).syncMaps('queueStats').syncMapItems(queueSid).fetch()).data;
}
async function flexRecord(queueSid) {
  return (await client.sync.v1.services(env().TWILIO_FLEX_SYNC_SID).syncMaps('queueStats').syncMapItems(queueSid).fetch()).data;
}
async function step(queueSid, taskSid, name) {
  const r = await stack.control('POST', `/emulator/taskqueues/${queueSid}/tasks/${taskSid}/${name}`, {});
  assert.equal(r.delivery.status, 200, JSON.stringify(r.delivery));
  assert.deepEqual(r.delivery.body.errors, [], JSON.stringify(r.delivery.body));
  return r.delivery.body;
}

test('parked counts and the longest park follow park and pickup, per queue and per agent', async () => {
  const support = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Support' })).sid;
  const sales = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Sales' })).sid;
  const { token, worker_sid: worker } = stack.emu.makeToken({ identity: 'parker', roles: ['agent'] });
  const call = (await client.calls.create({ to: '+15005550006', from: '+15005550001', twiml: '<Response><Dial><Conference>agent</Conference></Dial></Response>' })).sid;

  // The caller's task is with the agent.
  const queued = sid('WT');
  await step(support, queued, 'entered');
  await step(support, queued, 'accepted');
  assert.deepEqual((await boardRecord(support)).parked, { count: 0, oldestParkedAt: null, workers: {}, workersOmitted: 0 });
  const page = await browser.newPage();
  await page.goto(stack.rt.url(`/wallboard/index.html#key=${encodeURIComponent(KEY)}`));
  await parkedOnTile(page, support, 0);

  // Park: the call plays hold music and the entries are written; the parked task wraps up.
  const parked = await postForm(stack.rt.url('/park-call'), {
    Token: token,
    attributes: JSON.stringify({ from: '+15005550001' }),
    callSid: call,
    name: 'Ada',
    queueName: 'Support',
    taskSid: await heldTask(stack.emu, worker, call),
    workerSid: worker,
    workflowSid: 'WW' + 'a'.repeat(32),
  });
  assert.equal(parked.status, 200, JSON.stringify(parked.body));
  const at = parked.body.parkedCall.dateCreated;
  await step(support, queued, 'wrapup');
  const expected = { count: 1, oldestParkedAt: at, workers: { [worker]: { count: 1, oldestParkedAt: at } }, workersOmitted: 0 };
  assert.deepEqual((await boardRecord(support)).parked, expected, "on the board's copy");
  assert.deepEqual((await flexRecord(support)).parked, expected, "in Flex's record");
  await parkedOnTile(page, support, 1);
  assert.match(await page.locator(`.tile[data-sid="${support}"] .parked`).textContent(), /^1 \(\d+:\d\d\)$/, 'the count and the longest park');

  // Another queue's event does not count Support's parked call there.
  await step(sales, sid('WT'), 'entered');
  assert.equal((await boardRecord(sales)).parked.count, 0);

  // Pickup: the entries go; the pickup task enters the queue.
  const picked = await postForm(stack.rt.url('/pickup-parked-call'), { Token: token, callSid: call });
  assert.equal(picked.status, 200, JSON.stringify(picked.body));
  await step(support, sid('WT'), 'entered');
  assert.deepEqual((await boardRecord(support)).parked, { count: 0, oldestParkedAt: null, workers: {}, workersOmitted: 0 });
  await parkedOnTile(page, support, 0);
  await page.close();
});

test('a refresh that changes nothing, parked figures included, writes nothing', async () => {
  const q = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Quiet' })).sid;
  // The same queue announced again: same figures, same (zero) parked calls.
  const again = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Quiet', sid: q })).delivery.body;
  assert.deepEqual(again.errors, []);
  assert.equal(again.syncWrites, 0, JSON.stringify(again));
  assert.equal(again.boardWrites, 0, JSON.stringify(again));
  assert.equal((await boardRecord(q)).parked.count, 0);
});
