// The wallboard's history view: GET /queue-history for the chosen range, channel and queues, five
// groupings (hour, date, hour of day, day of week, queue) charted with Chart.js, totals, and a CSV
// of exactly the series on screen. Credentials as on the live wallboard: #key=… (wallboard key,
// kept in localStorage) or #token=… (a supervisor's Flex token, kept for the session), sent in the
// Authorization header only. The view's choices live in the URL query, so a view can be linked.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const GROUPINGS = ['hour', 'date', 'hourOfDay', 'dayOfWeek', 'queue'];
  const state = { answers: {}, charts: {}, credential: null };

  function status(text, kind = 'ok') {
    $('status').textContent = text;
    $('status').dataset.state = kind;
  }

  /** The view's choices, from the URL query (defaults: last 7 days, all channels and queues). */
  function choices() {
    const q = new URLSearchParams(location.search);
    return { range: q.get('range') || 'last7', from: q.get('from') || '', to: q.get('to') || '', channel: q.get('channel') || 'all', queue: q.get('queue') || '' };
  }

  function showChoices(c) {
    $('range').value = c.range;
    $('custom').hidden = c.range !== 'custom';
    $('from').value = c.from;
    $('to').value = c.to;
    $('channel').value = c.channel;
    const wanted = c.queue ? c.queue.split(',') : [];
    for (const o of $('queues').options) o.selected = wanted.includes(o.value);
  }

  function readChoices() {
    const range = $('range').value;
    const queue = [...$('queues').selectedOptions].map((o) => o.value).join(',');
    return { range, from: range === 'custom' ? $('from').value : '', to: range === 'custom' ? $('to').value : '', channel: $('channel').value, queue };
  }

  function params(c, by) {
    const p = new URLSearchParams({ by, channel: c.channel });
    if (c.range === 'custom') {
      p.set('from', c.from);
      if (c.to) p.set('to', c.to);
    } else p.set('range', c.range);
    if (c.queue) p.set('queue', c.queue);
    return p;
  }

  async function fetchSeries(c, by) {
    const res = await fetch(`/queue-history?${params(c, by)}`, { headers: { Authorization: state.credential } });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
    return body;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function load() {
    const c = choices();
    showChoices(c);
    status('loading…');
    try {
      // Missing hours are backfilled by the server, a slice per request: ask again until complete.
      let answers;
      for (let attempt = 0; attempt < 20; attempt++) {
        answers = await Promise.all(GROUPINGS.map((by) => fetchSeries(c, by)));
        const missing = Math.max(...answers.map((a) => a.missing.length));
        if (!missing || attempt === 19) break;
        status(`backfilling ${missing} hours from TaskRouter…`);
        await sleep(1000);
      }
      GROUPINGS.forEach((by, i) => (state.answers[by] = answers[i]));
      fillQueues(answers[GROUPINGS.indexOf('queue')], c);
      render();
      const a = answers[0];
      const missing = a.missing.length ? `; ${a.missing.length} hours without figures (older than TaskRouter keeps)` : '';
      status(`${a.closedHours} closed hours, ${a.zone}, ${a.from} → ${a.to}${missing}`);
      document.body.dataset.loaded = String(Date.now());
    } catch (err) {
      if (err.status === 403 || err.status === 401) return signIn(err.message);
      status(`Could not load the history: ${err.message}`, 'error');
    }
  }

  function fillQueues(byQueue, c) {
    const select = $('queues');
    const known = new Map([...select.options].map((o) => [o.value, o.textContent]));
    for (const q of byQueue.queues) known.set(q.sid, q.friendlyName);
    const wanted = c.queue ? c.queue.split(',') : [];
    select.replaceChildren(
      ...[...known.entries()]
        .sort((a, b) => a[1].localeCompare(b[1]))
        .map(([sid, name]) => Object.assign(document.createElement('option'), { value: sid, textContent: name, selected: wanted.includes(sid) })),
    );
  }

  const seconds = (v) => (v === null || v === undefined ? '–' : v >= 60 ? `${Math.floor(v / 60)}:${String(Math.round(v % 60)).padStart(2, '0')}` : `${Math.round(v)} s`);
  const percent = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)} %`);
  const round = (v, d = 1) => (v === null || v === undefined ? null : Number(v.toFixed(d)));

  function renderTotals(t, thresholds) {
    const cells = [
      ['Tasks queued', t.entered],
      ['Handled', t.accepted],
      ['Abandoned', `${t.abandoned} (${percent(t.abandonRate)})`],
      ['Short abandons', t.shortAbandoned],
      ['Average wait', seconds(t.avgWait)],
      ['Longest wait', seconds(t.maxWait)],
      ['Average abandon time', seconds(t.avgAbandon)],
      ['Average handle time', seconds(t.avgHandle)],
      ['Agents logged in (avg)', t.avgLoggedIn === null ? '–' : t.avgLoggedIn.toFixed(1)],
      ...thresholds.map((th) => [`Service level ${th} s`, percent(t.serviceLevel[th])]),
    ];
    $('totals').replaceChildren(
      ...cells.map(([label, value]) => {
        const d = document.createElement('div');
        d.append(Object.assign(document.createElement('b'), { textContent: String(value) }), label);
        return d;
      }),
    );
  }

  function chart(id, labels, datasets, y2) {
    if (state.charts[id]) state.charts[id].destroy();
    const scales = { y: { beginAtZero: true, position: 'left' } };
    if (y2) scales.y2 = { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: y2 } };
    if (datasets.some((d) => d.yAxisID === 'agents')) scales.agents = { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'agents' } };
    state.charts[id] = new Chart($(id), { type: 'bar', data: { labels, datasets }, options: { animation: false, responsive: true, maintainAspectRatio: false, scales, plugins: { legend: { position: 'bottom' } } } });
  }

  const bar = (label, data, color) => ({ type: 'bar', label, data, backgroundColor: color });
  const line = (label, data, color, yAxisID = 'y2') => ({ type: 'line', label, data, borderColor: color, backgroundColor: color, yAxisID, spanGaps: true, tension: 0.2 });

  function render() {
    const a = state.answers;
    renderTotals(a.hour.totals, a.hour.thresholds);
    const rows = (by) => a[by].series;
    const pick = (by, f) => rows(by).map((r) => round(f(r)));
    chart('chart-hour', rows('hour').map((r) => r.label.slice(5, 16)), [bar('Tasks queued', pick('hour', (r) => r.entered), '#7aa7e8'), line('Average wait (s)', pick('hour', (r) => r.avgWait), '#d9822b')], 'seconds');
    chart('chart-date', rows('date').map((r) => r.label), [bar('Average wait (s)', pick('date', (r) => r.avgWait), '#d9822b'), bar('Average abandon time (s)', pick('date', (r) => r.avgAbandon), '#c23030'), bar('Average handle time (s)', pick('date', (r) => r.avgHandle), '#5a9e6f')]);
    for (const by of ['hourOfDay', 'dayOfWeek']) {
      chart(`chart-${by}`, rows(by).map((r) => r.label), [
        bar('Tasks queued', pick(by, (r) => r.entered), '#7aa7e8'),
        line('Average wait (s)', pick(by, (r) => r.avgWait), '#d9822b'),
        line('Agents logged in', pick(by, (r) => r.avgLoggedIn), '#6b4fbb', 'agents'),
      ], 'seconds');
    }
    chart('chart-queue', rows('queue').map((r) => r.label), [bar('Handled', pick('queue', (r) => r.accepted), '#5a9e6f'), bar('Abandoned', pick('queue', (r) => r.abandoned), '#c23030'), line('Average wait (s)', pick('queue', (r) => r.avgWait), '#d9822b')], 'seconds');
    const colors = ['#1f6feb', '#d9822b', '#5a9e6f', '#6b4fbb'];
    chart('chart-sla', rows('date').map((r) => r.label), a.date.thresholds.map((t, i) => line(`${t} s`, rows('date').map((r) => (r.serviceLevel[t] === null ? null : round(r.serviceLevel[t] * 100))), colors[i % colors.length], 'y')));
  }

  /** Every series on screen, one row per group, with the grouping in the first column. */
  function csv() {
    const thresholds = state.answers.hour.thresholds;
    const fields = ['entered', 'accepted', 'abandoned', 'shortAbandoned', 'abandonRate', 'avgWait', 'maxWait', 'avgAbandon', 'handled', 'avgHandle', 'avgAvailable', 'avgLoggedIn'];
    const header = ['by', 'key', 'label', 'start', 'end', ...fields, ...thresholds.map((t) => `serviceLevel${t}`)];
    const cell = window.csvCell; // csv.js: quoting, and formulas neutralised
    const lines = [header.join(',')];
    for (const by of GROUPINGS) {
      for (const r of state.answers[by].series) {
        lines.push([by, r.key, r.label, r.start, r.end, ...fields.map((f) => r[f]), ...thresholds.map((t) => r.serviceLevel[t])].map(cell).join(','));
      }
    }
    return `${lines.join('\n')}\n`;
  }

  function download() {
    if (!state.answers.hour) return;
    const a = state.answers.hour;
    const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([csv()], { type: 'text/csv' })), download: `queue-history_${a.from}_${a.to}_${a.channel}.csv`.replace(/:/g, '') });
    document.body.append(link);
    link.click();
    link.remove();
  }

  function signIn(message) {
    status(message || 'A wallboard key or a supervisor token is needed', 'error');
    $('sign-in').hidden = false;
  }

  $('sign-in').addEventListener('submit', (e) => {
    e.preventDefault();
    const kind = document.querySelector('input[name="kind"]:checked').value;
    location.hash = `${kind}=${encodeURIComponent($('credential').value.trim())}`;
    location.reload();
  });
  $('range').addEventListener('change', () => ($('custom').hidden = $('range').value !== 'custom'));
  $('controls').addEventListener('submit', (e) => {
    e.preventDefault();
    const c = readChoices();
    const q = new URLSearchParams(Object.entries(c).filter(([, v]) => v));
    history.replaceState(null, '', `${location.pathname}?${q}`);
    load();
  });
  $('csv').addEventListener('click', download);
  window.queueHistoryView = { csv, answers: state.answers };

  state.credential = window.wallboardCredential();
  if (!state.credential) signIn();
  else load();
})();
