// What an open board costs does not grow with its queues: an idle board with 300 queues, in headless
// Chromium against the emulator + twilio-run stack, over one minute of the page's time (Playwright's
// page clock; every request counted is real): at most 20 function requests and 20 TaskRouter calls.
// The same measurement at 5, 300 and 2,000 queues is printed by `npm run bench` (scripts/bench-board.js).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers/stack');
const { launchBrowser } = require('./helpers/browser');
const { addBoardQueues } = require('./helpers/board-queues');
const { measureIdleBoard } = require('../scripts/bench-board');

const KEY = 'cost-key-' + 'c'.repeat(40);
let stack;
let browser;

before(async () => {
  [stack, browser] = await Promise.all([startStack({ env: { WALLBOARD_KEY: KEY } }), launchBrowser()]);
});
after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

test('an idle board with 300 queues makes at most 20 function requests and 20 TaskRouter calls a minute', async () => {
  await addBoardQueues(stack, 300, { prefix: 'Cost' });
  const m = await measureIdleBoard({ stack, browser, queues: 300, key: KEY });
  console.log(
    `idle board, 300 queues: ${m.functionRequestsPerMinute} function requests/min (${m.functionPaths.join(', ')}), ${m.taskrouterCallsPerMinute} TaskRouter calls/min (${m.taskrouterPaths.join(', ')})`,
  );
  assert.equal(m.tiles, 300);
  assert.ok(m.functionPaths.includes('/staffing'), 'the minute includes a staffing refresh: the count is of a working board');
  assert.deepEqual(
    m.staffingBatchSizes,
    m.staffingBatchSizes.map(() => 300),
    'each refresh asks for every tile at once',
  );
  assert.ok(m.functionRequestsPerMinute <= 20, `${m.functionRequestsPerMinute} function requests a minute`);
  assert.ok(m.taskrouterCallsPerMinute <= 20, `${m.taskrouterCallsPerMinute} TaskRouter calls a minute`);
  assert.deepEqual(browser.errors, []);
});
