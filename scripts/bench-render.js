#!/usr/bin/env node
// How fast the wallboard draws many queues, measured on the real page in headless Chromium against
// the stack `npm start` runs (emulator + twilio-run), at 300 and 2,000 queues:
//
// - first paint: from the first record the page receives (its `wallboard:first-data` mark) to
//   every tile in the DOM and a frame drawn after it (the page's own clock);
// - change latency: a TaskRouter event through the real statistics function, Sync and the page,
//   until the tile's text changed (end to end, the machine's clock), and the page's part of it:
//   from the record's arrival (`wallboard:record` mark) to the change in the DOM;
// - idle main thread: the share of ten seconds the page's main thread was busy (Chrome's
//   TaskDuration metric through CDP) with nothing changing but the clock (the board redraws every
//   second), and the long tasks (> 50 ms, PerformanceObserver) in that time.
//
//   node scripts/bench-render.js [--json]
const { startStack } = require('../tests/helpers/stack');
const { launchBrowser } = require('../tests/helpers/browser');
const { addBoardQueues } = require('../tests/helpers/board-queues');
const { sid: newSid } = require('../tests/helpers/emulator-client');

const KEY = 'bench-render-key-' + 'r'.repeat(40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure({ stack, browser, queues, sids, changes = 5, idleSeconds = 10 }) {
  const page = await browser.newPage({ width: 1920, height: 1080 });
  await page.addInitScript((n) => {
    window.__bench = { longTasks: [] };
    new PerformanceObserver((list) => window.__bench.longTasks.push(...list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration })))).observe({ type: 'longtask', buffered: true });
    document.addEventListener('DOMContentLoaded', () => {
      const box = document.getElementById('tiles');
      const seen = new MutationObserver(() => {
        if (box.querySelectorAll('.tile').length < n) return;
        seen.disconnect();
        const at = performance.now();
        requestAnimationFrame(() => setTimeout(() => ((window.__bench.allInDom = at), (window.__bench.allPainted = performance.now()))));
      });
      seen.observe(box, { childList: true });
    });
  }, queues);
  const firstStaffing = page.waitForResponse((r) => r.url().endsWith('/staffing'), { timeout: 180000 });
  firstStaffing.catch(() => {});
  await page.goto(stack.rt.url(`/wallboard/index.html#key=${encodeURIComponent(KEY)}`));
  await page.waitForFunction(() => window.__bench.allPainted, null, { timeout: 180000, polling: 200 });
  const paint = await page.evaluate(() => {
    const first = performance.getEntriesByName('wallboard:first-data')[0].startTime;
    const loaded = performance.getEntriesByName('wallboard:loaded')[0];
    return {
      firstDataMs: first,
      inDomMs: window.__bench.allInDom - first,
      paintedMs: window.__bench.allPainted - first,
      readMs: loaded ? loaded.startTime - first : null,
      afterReadMs: loaded ? window.__bench.allPainted - loaded.startTime : null,
    };
  });
  await firstStaffing;
  await sleep(2000);

  // Change latency, a few times on different queues (each through the real statistics function).
  const e2e = [];
  const inPage = [];
  for (let i = 0; i < changes; i += 1) {
    const sid = sids[Math.floor(((i + 0.5) * sids.length) / changes)];
    const before = await page.evaluate((q) => document.querySelector(`.tile[data-sid="${q}"] .waiting`).textContent, sid);
    await page.evaluate(
      ([q, text]) => {
        const el = document.querySelector(`.tile[data-sid="${q}"] .waiting`);
        window.__bench.changed = null;
        const o = new MutationObserver(() => {
          if (el.textContent === text) return;
          o.disconnect();
          const marks = performance.getEntriesByName('wallboard:record').filter((m) => m.detail === q);
          window.__bench.changed = { wall: Date.now(), page: performance.now() - (marks.length ? marks[marks.length - 1].startTime : NaN) };
        });
        o.observe(el, { childList: true, characterData: true, subtree: true });
      },
      [sid, before],
    );
    const t0 = Date.now();
    await stack.control('POST', `/emulator/taskqueues/${sid}/tasks/${newSid('WT')}/entered`, { channel: 'voice' });
    await page.waitForFunction(() => window.__bench.changed, null, { timeout: 30000, polling: 50 });
    const c = await page.evaluate(() => window.__bench.changed);
    e2e.push(c.wall - t0);
    inPage.push(c.page);
    await sleep(300);
  }

  // Idle: nothing changes for idleSeconds but the page's clock.
  await sleep(16000); // past the staffing refresh of the changed queues (15 s)
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const from = await metric();
  const longFrom = await page.evaluate(() => window.__bench.longTasks.length);
  const wall0 = Date.now();
  await sleep(idleSeconds * 1000);
  const to = await metric();
  const wall = (Date.now() - wall0) / 1000;
  const longTasks = await page.evaluate((n) => window.__bench.longTasks.slice(n), longFrom);
  const tiles = await page.locator('.tile').count();
  await cdp.detach();
  await page.close();
  return {
    queues,
    tiles,
    first_paint_ms: Math.round(paint.paintedMs),
    all_tiles_in_dom_ms: Math.round(paint.inDomMs),
    initial_read_ms: paint.readMs === null ? null : Math.round(paint.readMs),
    painted_after_read_ms: paint.afterReadMs === null ? null : Math.round(paint.afterReadMs),
    change_latency_end_to_end_ms: { median: median(e2e), max: Math.max(...e2e), samples: e2e },
    change_latency_in_page_ms: { median: Math.round(median(inPage)), max: Math.round(Math.max(...inPage)) },
    idle_main_thread_busy_pct: Number((((to.TaskDuration - from.TaskDuration) / wall) * 100).toFixed(1)),
    idle_script_pct: Number((((to.ScriptDuration - from.ScriptDuration) / wall) * 100).toFixed(1)),
    idle_layout_pct: Number((((to.LayoutDuration - from.LayoutDuration) / wall) * 100).toFixed(1)),
    idle_style_pct: Number((((to.RecalcStyleDuration - from.RecalcStyleDuration) / wall) * 100).toFixed(1)),
    idle_long_tasks: longTasks.length,
    idle_seconds: Number(wall.toFixed(1)),
  };
}

async function benchRender({ sizes = [300, 2000] } = {}) {
  const [stack, browser] = await Promise.all([startStack({ env: { WALLBOARD_KEY: KEY } }), launchBrowser()]);
  try {
    const out = [];
    const sids = [];
    for (const n of sizes) {
      if (process.env.BENCH_VERBOSE) console.error(`bench-render: ${n} queues`);
      sids.push(...(await addBoardQueues(stack, n - sids.length, { prefix: `Render${n}` })));
      out.push(await measure({ stack, browser, queues: n, sids }));
    }
    return out;
  } finally {
    await browser.close();
    await stack.stop();
  }
}

function formatRender(rows) {
  const lines = ['Wallboard drawing (real page in headless Chromium, 1920×1080, normal mode):'];
  for (const r of rows) {
    lines.push(
      `  ${String(r.queues).padStart(5)} queues: first paint ${r.first_paint_ms} ms after the first record (every tile in the DOM at ${r.all_tiles_in_dom_ms} ms; reading the records from Sync took ${r.initial_read_ms} ms, painted ${r.painted_after_read_ms} ms after the last); ` +
        `a change on screen ${r.change_latency_end_to_end_ms.median} ms after the TaskRouter event (median, max ${r.change_latency_end_to_end_ms.max}; the page's part ${r.change_latency_in_page_ms.median} ms, max ${r.change_latency_in_page_ms.max}); ` +
        `idle main thread ${r.idle_main_thread_busy_pct} % busy (script ${r.idle_script_pct} %, style ${r.idle_style_pct} %, layout ${r.idle_layout_pct} %), ${r.idle_long_tasks} long tasks in ${r.idle_seconds} s`,
    );
  }
  return lines.join('\n');
}

module.exports = { benchRender, formatRender };

if (require.main === module) {
  benchRender()
    .then((rows) => console.log(process.argv.includes('--json') ? JSON.stringify(rows) : formatRender(rows)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
