#!/usr/bin/env node
// What an open wallboard costs: function requests (to this service) and TaskRouter calls a minute
// for one idle board, at 5, 300 and 2,000 queues. Measured, not computed: the real page in headless
// Chromium against the stack `npm start` runs (emulator + twilio-run), counting the page's requests
// to functions (Playwright's request events) and the TaskRouter requests in the emulator's log.
// The page's clock is Playwright's (page.clock): once the board is up, the page's time is paused
// and run one second at a time for exactly one minute, so its timers run in a few seconds; every
// request they start is real and awaited.
//
//   const { benchBoard, formatBoard, measureIdleBoard } = require('./bench-board');
//   node scripts/bench-board.js [--json]
const { startStack } = require('../tests/helpers/stack');
const { launchBrowser } = require('../tests/helpers/browser');
const { addBoardQueues } = require('../tests/helpers/board-queues');

const KEY = 'bench-board-key-' + 'b'.repeat(40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens the board with the wallboard key, waits for its tiles and first staffing answer, then runs
 * `minutes` of the page's time and counts what it asked: `{functionRequests, taskrouterCalls}` per
 * minute, and the paths and `/staffing` batch sizes seen.
 */
async function measureIdleBoard({ stack, browser, queues, key = KEY, minutes = 1 }) {
  const page = await browser.newPage();
  await page.clock.install({ time: Date.now() });
  const seen = [];
  let inflight = 0;
  const isFunction = (req) => {
    const u = new URL(req.url());
    return u.origin === stack.rt.base && !u.pathname.startsWith('/wallboard/');
  };
  page.on('request', (req) => {
    if (!isFunction(req)) return;
    inflight += 1;
    let size;
    try {
      size = req.url().endsWith('/staffing') ? JSON.parse(req.postData() || '{}').queues.length : null;
    } catch {
      size = null;
    }
    seen.push({ path: new URL(req.url()).pathname, size });
  });
  const done = (req) => isFunction(req) && (inflight -= 1);
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  const settle = async () => {
    for (let i = 0; i < 600 && inflight > 0; i += 1) await sleep(50);
    await sleep(200);
  };
  const firstStaffing = page.waitForResponse((r) => r.url().endsWith('/staffing'), { timeout: 120000 });
  firstStaffing.catch(() => {}); // awaited below; a failure before then must not go unhandled
  await page.goto(stack.rt.url(`/wallboard/index.html#key=${encodeURIComponent(key)}`));
  await page.waitForSelector('#connection[data-state="connected"]', { timeout: 60000 });
  await firstStaffing;
  await settle();
  const tiles = await page.locator('.tile').count();
  // From here the page's time moves only when run: exactly `minutes` of it.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  await settle();
  const from = { fn: seen.length, log: stack.emu.requests.length };
  for (let s = 0; s < 60 * minutes; s += 1) {
    await page.clock.runFor(1000);
    await sleep(10);
    if (inflight > 0) await settle();
  }
  await settle();
  const window = seen.slice(from.fn);
  const taskrouter = stack.emu.requests.slice(from.log).filter((r) => r.product === 'taskrouter');
  await page.close();
  return {
    queues,
    tiles,
    minutes,
    functionRequestsPerMinute: window.length / minutes,
    taskrouterCallsPerMinute: taskrouter.length / minutes,
    functionPaths: window.map((r) => r.path),
    staffingBatchSizes: window.filter((r) => r.size !== null).map((r) => r.size),
    taskrouterPaths: taskrouter.map((r) => `${r.method} ${r.path.replace(/WS\w+/, 'WS…')}`),
  };
}

async function benchBoard({ sizes = [5, 300, 2000] } = {}) {
  const [stack, browser] = await Promise.all([startStack({ env: { WALLBOARD_KEY: KEY } }), launchBrowser()]);
  try {
    const out = [];
    let have = 0;
    for (const n of sizes) {
      if (process.env.BENCH_VERBOSE) console.error(`bench-board: ${n} queues`);
      await addBoardQueues(stack, n - have, { prefix: `Bench${n}` });
      have = n;
      out.push(await measureIdleBoard({ stack, browser, queues: n }));
    }
    return out;
  } finally {
    await browser.close();
    await stack.stop();
  }
}

function formatBoard(rows) {
  const lines = ['Wallboard, one idle open board (real page in headless Chromium, one minute of its timers):'];
  for (const r of rows) {
    lines.push(
      `  ${String(r.queues).padStart(5)} queues: ${r.functionRequestsPerMinute} function requests/min (${[...new Set(r.functionPaths)].join(', ') || 'none'}; /staffing batch of ${r.staffingBatchSizes.join(', ') || '-'} queues), ${r.taskrouterCallsPerMinute} TaskRouter calls/min`,
    );
  }
  return lines.join('\n');
}

/**
 * What the board's copy costs the statistics function (docs/wallboard.md): the queue-statistics
 * benchmark's simulated ten minutes (scripts/bench-queue-stats.js), with and without the copy.
 */
async function benchBoardCopy({
  cases = [
    { queues: 500, eventsPerS: 50, layout: 'map' },
    { queues: 500, eventsPerS: 50, layout: 'documents' },
  ],
} = {}) {
  const { runCase } = require('./bench-queue-stats');
  const rows = [];
  for (const c of cases) for (const board of [false, true]) rows.push({ ...(await runCase({ ...c, board })), board });
  return rows;
}

function formatBoardCopy(rows) {
  const lines = ["Wallboard copy of the statistics (the queue-statistics benchmark's ten simulated minutes, without / with the copy):"];
  for (const r of rows) {
    lines.push(
      `  ${r.queues} queues, ${r.events_per_s} events/s, ${r.layout} layout, ${r.board ? 'with' : 'without'} copy: ${r.sync_writes_per_event} Sync writes/event, max ${r.max_object_writes_per_s} writes/s and ${r.max_object_budget_used} of the budget on one object, ${r.http_429_sync} Sync 429s, staleness p99 ${r.staleness_p99_s} s`,
    );
  }
  return lines.join('\n');
}

module.exports = { benchBoard, formatBoard, measureIdleBoard, benchBoardCopy, formatBoardCopy };

if (require.main === module) {
  (async () => {
    const rows = await benchBoard();
    const copy = await benchBoardCopy();
    console.log(process.argv.includes('--json') ? JSON.stringify({ board: rows, copy }) : `${formatBoard(rows)}\n\n${formatBoardCopy(copy)}`);
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
