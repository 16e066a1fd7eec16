// The wallboard's agent history view: GET /agent-history for the chosen range, team or agents, in
// five groupings (hour, date, activity, disposition and, with a supervisor's token, agent) charted
// with Chart.js, totals, and a CSV of exactly the series on screen. Credentials as on the live
// wallboard: #key=… (wallboard key: aggregates only, no agent names) or #token=… (a supervisor's
// Flex token), sent in the Authorization header only. The view's choices live in the URL query.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const state = { answers: {}, groupings: [], charts: {}, credential: null };

  function status(text, kind = 'ok') {
    $('status').textContent = text;
    $('status').dataset.state = kind;
  }

  function choices() {
    const q = new URLSearchParams(location.search);
    return { range: q.get('range') || 'last7', from: q.get('from') || '', to: q.get('to') || '', team: q.get('team') || '', agent: q.get('agent') || '' };
  }

  function showChoices(c) {
    $('range').value = c.range;
    $('custom').hidden = c.range !== 'custom';
    $('from').value = c.from;
    $('to').value = c.to;
    $('team').value = c.team;
  }

  function readChoices() {
    const range = $('range').value;
    const agent = [...$('agents').selectedOptions].map((o) => o.value).join(',');
    return { range, from: range === 'custom' ? $('from').value : '', to: range === 'custom' ? $('to').value : '', team: $('team').value.trim(), agent };
  }

  function params(c, by) {
    const p = new URLSearchParams({ by });
    if (c.range === 'custom') {
      p.set('from', c.from);
      if (c.to) p.set('to', c.to);
    } else p.set('range', c.range);
    if (c.team) p.set('agent', `team:${c.team}`);
    else if (c.agent) p.set('agent', c.agent);
    return p;
  }

  async function fetchSeries(c, by) {
    const res = await fetch(`/agent-history?${params(c, by)}`, { headers: { Authorization: state.credential } });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
    return body;
  }

  async function load() {
    const c = choices();
    showChoices(c);
    status('loading…');
    try {
      // The wallboard key sees aggregates only: no per-agent grouping.
      const byKey = /^Wallboard /.test(state.credential);
      state.groupings = ['hour', 'date', 'activity', 'disposition', ...(byKey ? [] : ['agent'])];
      const answers = await Promise.all(state.groupings.map((by) => fetchSeries(c, by)));
      for (const k of Object.keys(state.answers)) delete state.answers[k];
      state.groupings.forEach((by, i) => (state.answers[by] = answers[i]));
      $('agents-box').hidden = byKey;
      $('per-agent').hidden = byKey;
      if (!byKey) fillAgents(state.answers.agent, c);
      render();
      const a = answers[0];
      showMissing(a.missing);
      status(`${a.closedHours} closed hours, ${a.zone}, ${a.from} → ${a.to}; ${a.totals.agents} agents`);
      document.body.dataset.loaded = String(Date.now());
    } catch (err) {
      if (err.status === 403 || err.status === 401) return signIn(err.message);
      status(`Could not load the agent history: ${err.message}`, 'error');
    }
  }

  function showMissing(missing) {
    const box = $('missing');
    box.hidden = !missing.length;
    if (!missing.length) return;
    box.querySelector('summary').textContent = `${missing.length} listings failed: the figures leave them out`;
    box.querySelector('ul').replaceChildren(...missing.map((m) => Object.assign(document.createElement('li'), { textContent: `${m.map} ${m.from} → ${m.to}: ${m.reason}` })));
  }

  function fillAgents(byAgent, c) {
    const select = $('agents');
    const known = new Map([...select.options].map((o) => [o.value, o.textContent]));
    for (const a of byAgent.agents) known.set(a.sid, a.name);
    const wanted = c.agent ? c.agent.split(',') : [];
    select.replaceChildren(
      ...[...known.entries()]
        .sort((a, b) => a[1].localeCompare(b[1]))
        .map(([sid, name]) => Object.assign(document.createElement('option'), { value: sid, textContent: name, selected: wanted.includes(sid) })),
    );
  }

  const seconds = (v) => (v === null || v === undefined ? '–' : v >= 60 ? `${Math.floor(v / 60)}:${String(Math.round(v % 60)).padStart(2, '0')}` : `${Math.round(v)} s`);
  const hours = (v) => `${(v / 3600).toFixed(1)} h`;
  const round = (v, d = 1) => (v === null || v === undefined ? null : Number(v.toFixed(d)));

  function renderTotals(t) {
    const cells = [
      ['Agents', t.agents],
      ['Logged in', hours(t.loggedInSeconds)],
      ['Answered', t.accepted],
      ['Rejected', t.rejected],
      ['Timed out', t.timedOut],
      ['Completed', t.completed],
      ['Average handle time', seconds(t.avgHandle)],
      ['Average wrap-up time', seconds(t.avgWrapup)],
    ];
    $('totals').replaceChildren(
      ...cells.map(([label, value]) => {
        const d = document.createElement('div');
        d.append(Object.assign(document.createElement('b'), { textContent: String(value) }), label);
        return d;
      }),
    );
  }

  function chart(id, labels, datasets, { stacked = false, y2 = null, type = 'bar' } = {}) {
    if (state.charts[id]) state.charts[id].destroy();
    const scales = { x: { stacked }, y: { beginAtZero: true, stacked, position: 'left' } };
    if (y2) scales.y2 = { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: y2 } };
    state.charts[id] = new Chart($(id), {
      type,
      data: { labels, datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales, plugins: { legend: { position: 'bottom' } } },
    });
  }

  const COLORS = ['#5a9e6f', '#d9822b', '#7aa7e8', '#6b4fbb', '#c23030', '#2aa198', '#b58900', '#888'];
  const bar = (label, data, color, extra = {}) => ({ type: 'bar', label, data, backgroundColor: color, ...extra });
  const line = (label, data, color, yAxisID = 'y2') => ({ type: 'line', label, data, borderColor: color, backgroundColor: color, yAxisID, spanGaps: true, tension: 0.2 });

  function render() {
    const a = state.answers;
    renderTotals(a.hour.totals);
    const rows = (by) => a[by].series;
    const activities = Object.keys(a.hour.totals.activityShare);
    chart(
      'chart-share',
      rows('date').map((r) => r.label),
      activities.map((name, i) =>
        bar(
          name,
          rows('date').map((r) => (r.activityShare[name] === undefined || r.activityShare[name] === null ? null : round(r.activityShare[name] * 100))),
          COLORS[i % COLORS.length],
        ),
      ),
      { stacked: true },
    );
    chart(
      'chart-hour',
      rows('hour').map((r) => r.label.slice(5, 16)),
      [
        bar(
          'Answered',
          rows('hour').map((r) => r.accepted),
          '#7aa7e8',
        ),
        bar(
          'Completed',
          rows('hour').map((r) => r.completed),
          '#5a9e6f',
        ),
      ],
    );
    chart(
      'chart-times',
      rows('date').map((r) => r.label),
      [
        bar(
          'Average handle time (s)',
          rows('date').map((r) => round(r.avgHandle)),
          '#5a9e6f',
        ),
        bar(
          'Average wrap-up time (s)',
          rows('date').map((r) => round(r.avgWrapup)),
          '#d9822b',
        ),
      ],
    );
    chart(
      'chart-disposition',
      rows('disposition').map((r) => r.label),
      [
        bar(
          'Tasks',
          rows('disposition').map((r) => r.count),
          '#6b4fbb',
        ),
      ],
    );
    if (a.agent) {
      chart(
        'chart-agent',
        rows('agent').map((r) => r.label),
        [
          bar(
            'Answered',
            rows('agent').map((r) => r.accepted),
            '#7aa7e8',
          ),
          bar(
            'Rejected',
            rows('agent').map((r) => r.rejected),
            '#d9822b',
          ),
          bar(
            'Timed out',
            rows('agent').map((r) => r.timedOut),
            '#c23030',
          ),
          line(
            'Average handle time (s)',
            rows('agent').map((r) => round(r.avgHandle)),
            '#5a9e6f',
          ),
        ],
        { y2: 'seconds' },
      );
    }
  }

  const FIELDS = ['agents', 'observedSeconds', 'loggedInSeconds', 'accepted', 'rejected', 'timedOut', 'canceled', 'completed', 'handled', 'avgHandle', 'wrapped', 'avgWrapup'];

  /** Every series on screen, one row per group, the grouping in the first column. */
  function csv() {
    const a = state.answers;
    const activities = Object.keys(a.hour.totals.activitySeconds).sort();
    const dispositions = Object.keys(a.hour.totals.dispositions).sort();
    const header = [
      'by',
      'key',
      'label',
      'start',
      'end',
      'seconds',
      'count',
      'share',
      ...FIELDS,
      ...activities.map((x) => `seconds:${x}`),
      ...activities.map((x) => `share:${x}`),
      ...dispositions.map((x) => `disposition:${x}`),
    ];
    const cell = window.csvCell; // csv.js: quoting, and formulas neutralised
    const lines = [header.map(cell).join(',')];
    for (const by of state.groupings) {
      for (const r of a[by].series) {
        const has = r.observedSeconds !== undefined;
        lines.push(
          [
            by,
            r.key,
            r.label,
            r.start,
            r.end,
            r.seconds,
            r.count,
            r.share,
            ...FIELDS.map((f) => (has ? r[f] : null)),
            ...activities.map((x) => (has ? r.activitySeconds[x] : null)),
            ...activities.map((x) => (has ? r.activityShare[x] : null)),
            ...dispositions.map((x) => (has ? r.dispositions[x] : null)),
          ]
            .map(cell)
            .join(','),
        );
      }
    }
    return `${lines.join('\n')}\n`;
  }

  function download() {
    if (!state.answers.hour) return;
    const a = state.answers.hour;
    const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(new Blob([csv()], { type: 'text/csv' })), download: `agent-history_${a.from}_${a.to}.csv`.replace(/:/g, '') });
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
  window.agentHistoryView = { csv, answers: state.answers };

  state.credential = window.wallboardCredential();
  if (!state.credential) signIn();
  else load();
})();
