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

  async function fetchSeries(c, by, backfill = true) {
    const p = params(c, by);
    if (!backfill) p.set('backfill', 'false');
    const res = await fetch(`/queue-history?${p}`, { headers: { Authorization: state.credential } });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
    return body;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const pendingOf = (a) => a.missing.filter((m) => m.code === 'pending').length;
  let loads = 0; // a newer load (the form submitted again) ends an older one's backfill loop

  /** Shows a set of answers: the queue list, the charts, the totals, the missing hours. */
  function show(answers, c) {
    GROUPINGS.forEach((by, i) => (state.answers[by] = answers[i]));
    fillQueues(answers, c);
    fillChannels(answers[0], c);
    render();
    showMissing(answers[0].missing);
  }

  async function load() {
    const c = choices();
    showChoices(c);
    const mine = ++loads;
    status('loading…', 'busy');
    document.body.dataset.state = 'loading';
    try {
      // First what is stored, at once (backfill=false: Sync only, no TaskRouter), with the queue
      // list TaskRouter has now; the view is usable while missing hours are fetched.
      let answers = await Promise.all(GROUPINGS.map((by) => fetchSeries(c, by, false)));
      if (mine !== loads) return;
      show(answers, c);
      document.body.dataset.stored = String(Date.now());
      // Then the missing hours, a slice per request (each hour is fetched once, however many
      // views ask): one backfilling request at a time, and after each the stored answers again.
      // A round that makes no progress (another request holds the hours) waits a second; after
      // 20 such rounds the view stops asking (failed and expired hours stay listed).
      let pending = pendingOf(answers[0]);
      for (let idle = 0; pending && idle < 20 && mine === loads;) {
        status(`${answers[0].closedHours - answers[0].missing.length} of ${answers[0].closedHours} hours shown; fetching ${pending} from TaskRouter…`, 'busy');
        const hourly = await fetchSeries(c, 'hour');
        const rest = await Promise.all(GROUPINGS.slice(1).map((by) => fetchSeries(c, by, false)));
        if (mine !== loads) return;
        answers = [hourly, ...rest];
        show(answers, c);
        const left = pendingOf(hourly);
        if (left >= pending) {
          idle += 1;
          await sleep(1000);
        } else idle = 0;
        pending = left;
      }
      const a = answers[0];
      const missing = a.missing.length ? `; ${a.missing.length} hours without figures` : '';
      status(`${a.closedHours} closed hours, ${a.zone}, ${a.from} → ${a.to}${missing}`);
      document.body.dataset.state = 'loaded';
      document.body.dataset.loaded = String(Date.now());
    } catch (err) {
      if (mine !== loads) return;
      document.body.dataset.state = 'error';
      if (err.status === 403 || err.status === 401) return signIn(err.message);
      status(`Could not load the history: ${err.message}`, 'error');
    }
  }

  const WHY = { pending: 'not fetched yet', failed: 'TaskRouter failed', expired: 'older than TaskRouter keeps' };

  /** Hours without figures, counted by why, each listed with its reason. */
  function showMissing(missing) {
    const box = $('missing');
    box.hidden = !missing.length;
    if (!missing.length) return;
    const counts = {};
    for (const m of missing) counts[m.code] = (counts[m.code] || 0) + 1;
    box.querySelector('summary').textContent = `${missing.length} hours without figures: ${Object.entries(counts)
      .map(([code, n]) => `${n} ${WHY[code] || code}`)
      .join(', ')}`;
    box.querySelector('ul').replaceChildren(...missing.map((m) => Object.assign(document.createElement('li'), { textContent: `${m.hour}: ${m.reason}` })));
  }

  /** The channels the server keeps history for (`all` and QUEUE_STATS_CHANNELS), as it names them. */
  function fillChannels(answer, c) {
    const select = $('channel');
    const list = Array.isArray(answer.channels) ? answer.channels.filter((x) => typeof x === 'string') : [];
    if (!list.length || list.join('|') === [...select.options].map((o) => o.value).join('|')) return;
    select.replaceChildren(...list.map((name) => Object.assign(document.createElement('option'), { value: name, textContent: name })));
    select.value = list.includes(c.channel) ? c.channel : 'all';
  }

  /** Every queue any answer names (TaskRouter's list now, and the stored names), by name. */
  function fillQueues(answers, c) {
    const select = $('queues');
    const known = new Map([...select.options].map((o) => [o.value, o.textContent]));
    for (const a of answers) for (const q of a.queues) known.set(q.sid, q.friendlyName);
    const wanted = c.queue ? c.queue.split(',') : [];
    const options = [...known.entries()].sort((a, b) => a[1].localeCompare(b[1]));
    // Rebuilt only when the list changed, so a selection being made is not reset.
    if (options.map(([sid, name]) => `${sid}=${name}`).join('|') === [...select.options].map((o) => `${o.value}=${o.textContent}`).join('|')) return;
    select.replaceChildren(...options.map(([sid, name]) => Object.assign(document.createElement('option'), { value: sid, textContent: name, selected: wanted.includes(sid) })));
  }

  const seconds = (v) => {
    if (v === null || v === undefined) return '–';
    const s = Math.round(v); // 119.6 s is 2:00, never 1:60
    return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` : `${s} s`;
  };
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
    state.charts[id] = new Chart($(id), {
      type: 'bar',
      data: { labels, datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales, plugins: { legend: { position: 'bottom' } } },
    });
  }

  const bar = (label, data, color) => ({ type: 'bar', label, data, backgroundColor: color });
  const line = (label, data, color, yAxisID = 'y2') => ({ type: 'line', label, data, borderColor: color, backgroundColor: color, yAxisID, spanGaps: true, tension: 0.2 });

  function render() {
    const a = state.answers;
    renderTotals(a.hour.totals, a.hour.thresholds);
    const rows = (by) => a[by].series;
    const pick = (by, f) => rows(by).map((r) => round(f(r)));
    // Hours without figures are gaps, marked by a grey bar of their own (not zeros).
    const gaps = new Set(a.hour.missing.map((m) => m.hour));
    const hourly = [
      bar(
        'Tasks queued',
        pick('hour', (r) => (gaps.has(r.start) ? null : r.entered)),
        '#7aa7e8',
      ),
      line(
        'Average wait (s)',
        pick('hour', (r) => r.avgWait),
        '#d9822b',
      ),
    ];
    if (gaps.size) {
      const top = Math.max(1, ...rows('hour').map((r) => r.entered));
      hourly.push(
        bar(
          'No figures (missing)',
          rows('hour').map((r) => (gaps.has(r.start) ? top : null)),
          'rgba(150,150,150,0.35)',
        ),
      );
    }
    chart(
      'chart-hour',
      rows('hour').map((r) => r.label.slice(5, 16)),
      hourly,
      'seconds',
    );
    chart(
      'chart-date',
      rows('date').map((r) => r.label),
      [
        bar(
          'Average wait (s)',
          pick('date', (r) => r.avgWait),
          '#d9822b',
        ),
        bar(
          'Average abandon time (s)',
          pick('date', (r) => r.avgAbandon),
          '#c23030',
        ),
        bar(
          'Average handle time (s)',
          pick('date', (r) => r.avgHandle),
          '#5a9e6f',
        ),
      ],
    );
    for (const by of ['hourOfDay', 'dayOfWeek']) {
      chart(
        `chart-${by}`,
        rows(by).map((r) => r.label),
        [
          bar(
            'Tasks queued',
            pick(by, (r) => r.entered),
            '#7aa7e8',
          ),
          line(
            'Average wait (s)',
            pick(by, (r) => r.avgWait),
            '#d9822b',
          ),
          line(
            'Agents logged in',
            pick(by, (r) => r.avgLoggedIn),
            '#6b4fbb',
            'agents',
          ),
        ],
        'seconds',
      );
    }
    chart(
      'chart-queue',
      rows('queue').map((r) => r.label),
      [
        bar(
          'Handled',
          pick('queue', (r) => r.accepted),
          '#5a9e6f',
        ),
        bar(
          'Abandoned',
          pick('queue', (r) => r.abandoned),
          '#c23030',
        ),
        line(
          'Average wait (s)',
          pick('queue', (r) => r.avgWait),
          '#d9822b',
        ),
      ],
      'seconds',
    );
    const colors = ['#1f6feb', '#d9822b', '#5a9e6f', '#6b4fbb'];
    chart(
      'chart-sla',
      rows('date').map((r) => r.label),
      a.date.thresholds.map((t, i) =>
        line(
          `${t} s`,
          rows('date').map((r) => (r.serviceLevel[t] === null ? null : round(r.serviceLevel[t] * 100))),
          colors[i % colors.length],
          'y',
        ),
      ),
    );
  }

  const CSV_FIELDS = ['entered', 'accepted', 'abandoned', 'shortAbandoned', 'abandonRate', 'avgWait', 'maxWait', 'avgAbandon', 'handled', 'avgHandle', 'avgAvailable', 'avgLoggedIn'];

  /**
   * Every series on screen, one row per group, with the grouping in the first column, then one
   * `total` row: the range's totals as GET /queue-history answers them (crates/history: counts
   * summed, averages weighted by their own counts, service level from the summed splits, agents
   * over the hours). Figures come rounded from the answer (seconds 0.1, shares 0.0001, agents 0.01).
   */
  function csv() {
    const thresholds = state.answers.hour.thresholds;
    const header = ['by', 'key', 'label', 'start', 'end', ...CSV_FIELDS, ...thresholds.map((t) => `serviceLevel${t}`)];
    const cell = window.csvCell; // csv.js: quoting, and formulas neutralised
    const row = (by, r) => [by, r.key, r.label, r.start, r.end, ...CSV_FIELDS.map((f) => r[f]), ...thresholds.map((t) => r.serviceLevel[t])].map(cell).join(',');
    const lines = [header.join(',')];
    for (const by of GROUPINGS) for (const r of state.answers[by].series) lines.push(row(by, r));
    const a = state.answers.hour;
    lines.push(row('total', { ...a.totals, key: 'total', label: 'Total', start: a.from, end: a.to }));
    return `${lines.join('\n')}\n`;
  }

  /** The queues on screen for a file name: their names, or `all-queues`. */
  function queueNames() {
    const c = choices();
    if (!c.queue) return 'all queues';
    const names = new Map(state.answers.queue.queues.map((q) => [q.sid, q.friendlyName]));
    return c.queue.split(',').map((sid) => names.get(sid) || sid);
  }

  /** The file's name: its range (whole local days for a named range, else its hours), channel and queues. */
  function fileName() {
    const a = state.answers;
    const days = a.date.series;
    const hours = a.hour.series;
    const span =
      choices().range !== 'custom' && days.length
        ? { first: `${days[0].key} 00:00`, last: `${days[days.length - 1].key} 23:00` }
        : { first: hours.length ? hours[0].label : a.hour.from, last: hours.length ? hours[hours.length - 1].label : a.hour.to };
    return window.csvFileName({ ...span, channel: a.hour.channel, queues: queueNames() });
  }

  function download() {
    if (!state.answers.hour) return;
    const name = fileName();
    const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([csv()], { type: 'text/csv' })), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  function signIn(message) {
    status(message || 'A wallboard key or a supervisor token is needed', 'error');
    document.body.dataset.state = 'sign-in';
    // Nothing to choose or chart without a credential: only the sign-in form is shown.
    $('controls').hidden = true;
    $('results').hidden = true;
    $('sign-in').hidden = false;
    $('credential').focus();
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
  window.queueHistoryView = { csv, fileName, answers: state.answers };

  state.credential = window.wallboardCredential();
  if (!state.credential) signIn();
  else load();
})();
