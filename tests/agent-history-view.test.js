// The wallboard's agent history view in a real browser (Debian chromium + playwright-core): days
// of the emulator's agents recorded as agent history by the product's hook code, the view's charts
// against GET /agent-history, the range selector, the CSV export equal to the series on screen,
// and the wallboard key's view without agent names.
// Days and hours matter here (yesterday, the last 7 days, the seeded days): every process and page reads a clock pinned to a half hour.
require('./helpers/clock').pinNow();
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startEmulator } = require('../emulator');
const { startRuntime, root } = require('./helpers/runtime');
const { launchBrowser } = require('./helpers/history-browser');
const { seedAgentHistory } = require('../scripts/seed-agent-history');

const KEY = 'agent-history-view-key-0123456789abcdef';
const ENV = { QUEUE_STATS_TIME_ZONE: 'UTC' };
let emu;
let rt;
let browser;
let page;
let seeded;
let token;

before(async () => {
  emu = await startEmulator({ port: 0 });
  seeded = await seedAgentHistory(emu, { days: 3, agents: 6, env: ENV });
  const env = emu.functionEnv();
  rt = await startRuntime({ env: { ...env, ...ENV, TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID, WALLBOARD_KEY: KEY } });
  token = emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token;
  browser = await launchBrowser({ viewport: { width: 1400, height: 1300 } });
  page = await browser.newPage();
});

after(async () => {
  if (browser) await browser.close();
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
});

async function api(query, authorization = `Bearer ${token}`) {
  const res = await fetch(rt.url(`/agent-history?${new URLSearchParams(query)}`), { headers: { Authorization: authorization } });
  assert.equal(res.status, 200);
  return res.json();
}

async function loaded(action) {
  const before = await page.evaluate(() => document.body.dataset.loaded || '').catch(() => '');
  await action();
  await page.waitForFunction((b) => document.body.dataset.loaded && document.body.dataset.loaded !== b, before, { timeout: 30000 });
}

const chartData = (id) =>
  page.evaluate((id) => {
    const c = Chart.getChart(document.getElementById(id));
    return c ? { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) } : null;
  }, id);

/** RFC 4180 lines of csv.js cells (quoted cells may hold commas). */
function parseCsv(text) {
  return text
    .trim()
    .split('\n')
    .map((line) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].slice(0, -1).map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"')));
}

test("the agent history view charts the agents' days (supervisor token)", async () => {
  await loaded(() => page.goto(rt.url(`/wallboard/agent-history.html#token=${token}`)));
  assert.deepEqual(browser.errors, []);
  const week = await api({ range: 'last7', by: 'hour' });
  assert.ok(week.totals.accepted > 100, `calls answered: ${week.totals.accepted}`);
  assert.equal(week.totals.agents, seeded.agents.length);
  const hour = await chartData('chart-hour');
  assert.equal(hour.labels.length, week.series.length);
  assert.deepEqual(
    hour.datasets[0].data,
    week.series.map((r) => r.accepted),
  );
  const byDate = await api({ range: 'last7', by: 'date' });
  const share = await chartData('chart-share');
  const available = share.datasets.find((d) => d.label === 'Available');
  assert.deepEqual(
    available.data,
    byDate.series.map((r) => (r.activityShare.Available === undefined || r.activityShare.Available === null ? null : Number((r.activityShare.Available * 100).toFixed(1)))),
  );
  const dispositions = await api({ range: 'last7', by: 'disposition' });
  assert.deepEqual(
    (await chartData('chart-disposition')).labels,
    dispositions.series.map((r) => r.label),
  );
  assert.ok(dispositions.series.length >= 3);
  const agents = await chartData('chart-agent');
  assert.deepEqual(agents.labels, seeded.agents.map((a) => a.friendlyName).sort());
  const times = await chartData('chart-times');
  assert.ok(
    times.datasets.every((d) => d.data.some((v) => v > 0)),
    'handle and wrap-up times',
  );
  const shots = path.join(root, 'docs', 'img');
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, 'agent-history.png'), fullPage: true });
});

test('the range selector changes the charts', async () => {
  await loaded(async () => {
    await page.selectOption('#range', 'yesterday');
    await page.click('#apply');
  });
  const y = await api({ range: 'yesterday', by: 'hour' });
  assert.equal(y.series.length, 24);
  const hour = await chartData('chart-hour');
  assert.equal(hour.labels.length, 24);
  assert.deepEqual(
    hour.datasets[0].data,
    y.series.map((r) => r.accepted),
  );
  assert.match(await page.evaluate(() => location.search), /range=yesterday/);
});

test('the CSV is exactly the series on screen', async () => {
  const text = await page.evaluate(() => window.agentHistoryView.csv());
  const [header, ...rows] = parseCsv(text);
  for (const by of ['hour', 'date', 'activity', 'disposition', 'agent']) {
    const answer = await api({ range: 'yesterday', by });
    const mine = rows.filter((r) => r[0] === by);
    assert.equal(mine.length, answer.series.length, by);
    answer.series.forEach((r, i) => {
      const row = Object.fromEntries(header.map((h, j) => [h, mine[i][j]]));
      assert.equal(row.key, r.key);
      assert.equal(row.label, r.label);
      if (by === 'activity') assert.equal(Number(row.seconds), r.seconds);
      else if (by === 'disposition') assert.equal(Number(row.count), r.count);
      else {
        assert.equal(Number(row.accepted), r.accepted, `${by} ${r.key}`);
        assert.equal(row.avgHandle === '' ? null : Number(row.avgHandle), r.avgHandle);
        for (const [name, s] of Object.entries(r.activitySeconds)) assert.equal(Number(row[`seconds:${name}`]), s);
      }
    });
  }
});

test("the wallboard key's view has no agent names", async () => {
  const keyPage = await browser.newPage();
  const before = '';
  await keyPage.goto(rt.url(`/wallboard/agent-history.html#key=${KEY}`));
  await keyPage.waitForFunction((b) => document.body.dataset.loaded && document.body.dataset.loaded !== b, before, { timeout: 30000 });
  const html = await keyPage.content();
  const csv = await keyPage.evaluate(() => window.agentHistoryView.csv());
  for (const a of seeded.agents) {
    assert.ok(!html.includes(a.friendlyName) && !csv.includes(a.friendlyName), `${a.friendlyName} shown to the key`);
    assert.ok(!csv.includes(a.sid), `${a.sid} in the key's CSV`);
  }
  assert.equal(await keyPage.evaluate(() => document.getElementById('per-agent').hidden), true);
  await keyPage.close();
});
