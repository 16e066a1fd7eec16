#!/usr/bin/env node
// The live agents view at 2,000 agents (docs/agents-live.md), measured against the stack
// `npm start` runs (emulator + twilio-run) with the real writer and the real page:
//
// - Sync writes (and reads, TaskRouter calls) per event: the writer of
//   functions/common/agents-live.private.js (agents-live wasm) driven with a mixed stream of
//   TaskRouter events (activity changes, reservations offered, accepted, wrapped up, completed,
//   rejected, timed out) for random agents at `eventsPerS`, after the floor is seeded; writes per
//   object and second counted in the emulator's request log; each event's time until its write is
//   done (what a board waits for, before Sync's own delivery).
// - What an open page costs a minute (function requests and TaskRouter calls) and how many Sync
//   objects it subscribes to, for a supervisor's board and a key's board: the real page in headless
//   Chromium, one minute of its timers on Playwright's clock (as scripts/bench-board.js does).
// - Render time: from opening the page to 2,000 agents on screen, and one recomputation + redraw
//   after a change (the page's own measure, `agentsView.lastRenderMs`).
//
//   node scripts/bench-agents-live.js [--json]
const { startStack } = require('../tests/helpers/stack');
const { launchBrowser } = require('../tests/helpers/browser');
const { seedFloor } = require('../tests/helpers/agents-floor');

const KEY = 'bench-agents-key-' + 'a'.repeat(40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);

async function writesPerEvent({ stack, floor, events = 600, eventsPerS = 30 }) {
  const { writer, workers } = floor;
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const busy = new Map(); // WK -> {task, step}
  const stream = [];
  const stepsAfter = { created: ['accepted', 'accepted', 'accepted', 'rejected', 'timeout'], accepted: ['wrapup'], wrapup: ['completed'] };
  for (let i = 0; stream.length < events; i += 1) {
    const w = workers[Math.floor(random() * workers.length)];
    const held = busy.get(w.sid);
    const at = Date.now();
    if (!held && random() < 0.4) {
      stream.push({ EventType: 'worker.activity.update', WorkerSid: w.sid, WorkerName: w.friendlyName, WorkerActivityName: ['Available', 'Break', 'Lunch'][Math.floor(random() * 3)] });
    } else {
      let step = 'created';
      let task = held ? held.task : `WT${(i + 1).toString(16).padStart(32, '0')}`;
      if (held) {
        const next = stepsAfter[held.step];
        step = next[Math.floor(random() * next.length)];
      }
      if (['completed', 'rejected', 'timeout'].includes(step)) busy.delete(w.sid);
      else busy.set(w.sid, { task, step });
      stream.push({ EventType: `reservation.${step}`, WorkerSid: w.sid, WorkerName: w.friendlyName, TaskSid: task, TaskChannelUniqueName: 'voice' });
    }
    void at;
  }
  const from = stack.emu.requests.length;
  const started = Date.now();
  const results = [];
  for (let i = 0; i < stream.length; i += 1) {
    const wait = started + (i * 1000) / eventsPerS - Date.now();
    if (wait > 0) await sleep(wait);
    const sent = Date.now();
    const event = { ...stream[i], Sid: `EVb${i.toString(16).padStart(30, '0')}`, EventDateMs: String(sent) };
    results.push(writer.handle(event).then((s) => ({ ...s, ms: Date.now() - sent })));
  }
  const done = await Promise.all(results);
  const log = stack.emu.requests.slice(from);
  const perObjectSecond = new Map();
  for (const r of log) {
    if (r.method !== 'POST' || !/\/Documents(\/|$)/.test(r.path) || /Permissions/.test(r.path)) continue;
    const object = r.path.split('/Documents/')[1] || (r.body && r.body.UniqueName) || 'new';
    const key = `${object}@${String(r.at).slice(0, 19)}`;
    perObjectSecond.set(key, (perObjectSecond.get(key) || 0) + 1);
  }
  const ms = done.map((d) => d.ms).sort((a, b) => a - b);
  const sum = (k) => done.reduce((s, d) => s + d[k], 0);
  const shardBytes = [];
  const svc = stack.emu.state.sync.services.get(stack.emu.functionEnv().WALLBOARD_SYNC_SID);
  for (const d of svc.documents.values()) if (/^agentsLive\.\d+$/.test(d.uniqueName)) shardBytes.push(JSON.stringify(d.data).length);
  shardBytes.sort((a, b) => a - b);
  return {
    agents: workers.length,
    events: done.length,
    eventsPerS,
    syncWritesPerEvent: +(sum('syncWrites') / done.length).toFixed(3),
    syncReadsPerEvent: +(sum('syncReads') / done.length).toFixed(3),
    taskrouterCallsPerEvent: +(sum('taskrouterCalls') / done.length).toFixed(3),
    errors: done.reduce((s, d) => s + d.errors.length, 0),
    maxWritesPerObjectPerSecond: Math.max(0, ...perObjectSecond.values()),
    sync429s: log.filter((r) => r.status === 429).length,
    writeDoneMsP50: pct(ms, 0.5),
    writeDoneMsP99: pct(ms, 0.99),
    shards: shardBytes.length,
    shardBytesP50: pct(shardBytes, 0.5),
    shardBytesMax: shardBytes[shardBytes.length - 1],
  };
}

async function pageCost({ stack, fragment, agents, floor }) {
  // A fresh browser per board: a second page on Playwright's clock in one context received nothing.
  const browser = await launchBrowser();
  try {
    return await pageCostIn({ stack, browser, fragment, agents, floor });
  } finally {
    await browser.close();
  }
}

/** Render times on the page's real clock (Playwright's clock also fakes performance.now). */
async function renderTimes({ stack, fragment, agents, floor }) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ width: 1600, height: 1000 });
    const t0 = Date.now();
    await page.goto(stack.rt.url(`/wallboard/agents.html#${fragment}`));
    await page.waitForFunction((n) => new Set([...document.querySelectorAll('#agents tr[data-sid]')].map((r) => r.dataset.sid)).size >= n, agents, { timeout: 120000 });
    const openMs = Date.now() - t0;
    const first = await page.evaluate(() => window.agentsView.lastRenderMs);
    const renders = [];
    for (let i = 0; i < 5; i += 1) {
      const w = floor.workers[100 + i * 37];
      const before = await page.evaluate(() => window.agentsView.renders);
      await stack.control('POST', `/emulator/agents/${w.sid}/activity`, { activity: i % 2 ? 'Available' : 'Break' });
      await page.waitForFunction((b) => window.agentsView.renders > b, before, { timeout: 10000 });
      renders.push(await page.evaluate(() => window.agentsView.lastRenderMs));
    }
    renders.sort((a, b) => a - b);
    return { openToAllAgentsMs: openMs, lastFullRenderMs: +first.toFixed(1), renderAfterChangeMsMedian: +renders[2].toFixed(1), renderAfterChangeMsMax: +renders[4].toFixed(1) };
  } finally {
    await browser.close();
  }
}

async function pageCostIn({ stack, browser, fragment, agents }) {
  const page = await browser.newPage({ width: 1600, height: 1000 });
  await page.clock.install({ time: Date.now() });
  const seen = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === stack.rt.base && !u.pathname.startsWith('/wallboard/') && !u.pathname.startsWith('/agents-live/')) seen.push(u.pathname);
  });
  const t0 = Date.now();
  await page.goto(stack.rt.url(`/wallboard/agents.html#${fragment}`));
  await page
    .waitForFunction((n) => document.querySelector('#summary') && document.querySelector('#summary').textContent.includes(`of ${n} agents`), agents, { timeout: 120000 })
    .catch(async (err) => {
      throw new Error(`${err.message}; the page shows: ${(await page.locator('body').textContent()).slice(0, 400)}`);
    });
  const names = await page.evaluate(() => window.agentsView.info.names);
  if (names) await page.waitForFunction((n) => new Set([...document.querySelectorAll('#agents tr[data-sid]')].map((r) => r.dataset.sid)).size >= n, agents, { timeout: 120000 });
  const openMs = Date.now() - t0;
  const subscribed = await page.evaluate(() => window.agentsView.docs.size + (window.agentsView.index ? 1 : 0));
  // From here the page's time moves only when run.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  const renders = [];
  renders.sort((a, b) => a - b);
  const from = { fn: seen.length, log: stack.emu.requests.length };
  for (let s = 0; s < 60; s += 1) {
    await page.clock.runFor(1000);
    await sleep(10);
  }
  await sleep(300);
  const taskrouter = stack.emu.requests.slice(from.log).filter((r) => r.product === 'taskrouter');
  const out = {
    board: names ? 'supervisor (names)' : 'wallboard key (counts)',
    openToAllAgentsMs: openMs,
    subscribedObjects: subscribed,
    functionRequestsPerMinute: seen.length - from.fn,
    taskrouterCallsPerMinute: taskrouter.length,
  };
  await page.close();
  return out;
}

async function benchAgentsLive({ agents = 2000 } = {}) {
  const stack = await startStack({ env: { WALLBOARD_KEY: KEY } });
  try {
    const queues = [];
    for (const name of ['Sales', 'Support', 'Billing', 'Renewals', 'Spanish']) queues.push((await stack.control('POST', '/emulator/taskqueues', { friendlyName: name })).sid);
    const seeded = Date.now();
    const floor = await seedFloor(stack, { agents, queues });
    const seedMs = Date.now() - seeded;
    const writes = await writesPerEvent({ stack, floor });
    const supervisor = `token=${encodeURIComponent(stack.emu.makeToken({ identity: 'bench', roles: ['supervisor'] }).token)}`;
    const pages = [await pageCost({ stack, fragment: `key=${encodeURIComponent(KEY)}`, agents, floor }), await pageCost({ stack, fragment: supervisor, agents, floor })];
    const render = await renderTimes({ stack, fragment: supervisor, agents, floor });
    return { agents, seedMs, writes, pages, render };
  } finally {
    await stack.stop();
  }
}

function formatAgentsLive(r) {
  const w = r.writes;
  const lines = [`Live agents view, ${r.agents} agents (writer + emulator; the page in headless Chromium):`];
  lines.push(
    `  ${w.events} events at ${w.eventsPerS}/s: ${w.syncWritesPerEvent} Sync writes/event, ${w.syncReadsPerEvent} Sync reads/event, ${w.taskrouterCallsPerEvent} TaskRouter calls/event; max ${w.maxWritesPerObjectPerSecond} writes/s on one document, ${w.sync429s} Sync 429s, ${w.errors} errors`,
  );
  lines.push(`  event to its write done: p50 ${w.writeDoneMsP50} ms, p99 ${w.writeDoneMsP99} ms; ${w.shards} shard documents, ${w.shardBytesP50} bytes p50, ${w.shardBytesMax} max`);
  for (const p of r.pages) {
    lines.push(
      `  ${p.board}: ${p.subscribedObjects} Sync objects subscribed; ${p.functionRequestsPerMinute} function requests/min, ${p.taskrouterCallsPerMinute} TaskRouter calls/min (one minute of the page's timers)`,
    );
  }
  const t = r.render;
  lines.push(
    `  supervisor's page, ${r.agents} agents: opened to every agent on screen in ${t.openToAllAgentsMs} ms (last full draw ${t.lastFullRenderMs} ms); recompute + redraw after a change: median ${t.renderAfterChangeMsMedian} ms, max ${t.renderAfterChangeMsMax} ms (of 5)`,
  );
  return lines.join('\n');
}

module.exports = { benchAgentsLive, formatAgentsLive };

if (require.main === module) {
  benchAgentsLive()
    .then((r) => console.log(process.argv.includes('--json') ? JSON.stringify(r) : formatAgentsLive(r)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
