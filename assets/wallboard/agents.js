// The live agents view (docs/agents-live.md): the agents-live documents of the board's Sync
// service, subscribed with the twilio-sync SDK. What is shown — rows, groups, order, counts — is
// crates/agents-live's browser face (wasm); this page subscribes and draws.
// A wallboard key's token reads the name-free counts documents only (Sync refuses the others);
// a supervisor's Flex token reads the agents' documents.
// URL: ?kiosk=1, ?group=queue|team|none, ?sort=attention|timedOut|name, ?activity=Break,
// ?filter=text, ?hideOffline=1. Credentials as on the queues board (#key=… or #token=…).
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const view = {
    kiosk: params.get('kiosk') === '1',
    groupBy: ['queue', 'team', 'none'].includes(params.get('group')) ? params.get('group') : 'none',
    sort: ['attention', 'timedOut', 'name'].includes(params.get('sort')) ? params.get('sort') : 'attention',
    activity: params.get('activity') || '',
    filter: params.get('filter') || '',
    hideOffline: params.get('hideOffline') === '1',
  };
  const state = { credential: null, info: null, client: null, conn: 'starting', lastData: null, docs: new Map(), texts: new Map(), index: null, rules: null, renders: 0 };
  window.agentsView = state; // read by the tests and the benchmark (render counts and times)

  const esc = (s) => String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const clock = (s) => {
    if (s === null || s === undefined) return '–';
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    return (h ? `${h}:${String(m).padStart(2, '0')}` : `${m}`) + `:${String(sec).padStart(2, '0')}`;
  };

  function show(message, kind) {
    const el = $('message');
    el.hidden = !message;
    el.textContent = message || '';
    el.className = kind || '';
  }

  async function api(path) {
    const res = await fetch(path, { method: 'POST', headers: { Authorization: state.credential, 'Content-Type': 'application/json' }, body: '{}' });
    const answer = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(answer.error || `HTTP ${res.status}`), { status: res.status, answer });
    return answer;
  }

  function refreshToken() {
    state.refreshing = state.refreshing || renewToken().finally(() => (state.refreshing = null));
    return state.refreshing;
  }
  async function renewToken() {
    for (let attempt = 0; ; attempt += 1) {
      try {
        state.info = await api('/agents-live-token');
        await state.client.updateToken(state.info.token);
        return;
      } catch (err) {
        if (err.status === 401 || err.status === 403) return denied(err);
        await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)));
      }
    }
  }
  function denied(err) {
    state.conn = 'denied';
    if (state.client) state.client.shutdown();
    show(`Access refused: ${err.message}`, 'error');
    state.texts.clear();
    render();
  }

  // ---- Sync: the index document lists the shards; one document per shard is opened -----------
  const shardDocument = (n) => (state.info.names ? `${state.info.documentPrefix}${n}` : `${state.info.countsPrefix}${n}`);

  async function openShard(n) {
    if (state.docs.has(n)) return;
    state.docs.set(n, null);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      try {
        const doc = await state.client.document({ id: shardDocument(n), mode: 'open_existing' });
        state.docs.set(n, doc);
        const take = (data) => {
          state.texts.set(n, JSON.stringify(data));
          state.lastData = Date.now();
          renderSoon();
        };
        doc.on('updated', ({ data }) => take(data));
        take(doc.data);
        return;
      } catch {
        // Just created (its counts or its permission may follow within a second): try again.
        await new Promise((r) => setTimeout(r, 500 + attempt * 500));
      }
    }
    state.docs.delete(n);
  }

  async function subscribe() {
    let index = null;
    while (!index) {
      try {
        index = await state.client.document({ id: state.info.indexDocument, mode: 'open_existing' });
      } catch (err) {
        show(`Waiting for the first agent event (${err.message})`, 'info');
        if (err.status === 403) await refreshToken();
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    show('');
    state.index = index;
    const openAll = (data) => Promise.all(((data && data.shards) || []).map(openShard));
    index.on('updated', ({ data }) => openAll(data));
    await openAll(index.data);
  }

  async function connect() {
    state.info = await api('/agents-live-token');
    state.client = await window.wallboardSyncClient(state.info);
    state.client.on('connectionStateChanged', (s) => {
      state.conn = s;
      header();
    });
    state.client.on('tokenAboutToExpire', refreshToken);
    state.client.on('tokenExpired', refreshToken);
    $('mode').textContent = state.info.names ? 'names shown (supervisor)' : 'counts only (wallboard key)';
  }

  // ---- drawing ---------------------------------------------------------------------------------
  // The view (rows, groups, order, counts) is computed by the wasm module when data or the view
  // change, at most every 500 ms. Between computations times tick in place: a cell keeps the
  // seconds it was computed with (data-base) and adds the time since. The order does not change
  // as time passes (every agent's time grows alike). Rows are kept by agent and group and redrawn
  // only when what they show (apart from times) changed, so 2,000 agents stay cheap to keep live.
  function renderSoon() {
    if (state.renderTimer) return;
    const wait = Math.max(100, 500 - (Date.now() - (state.computedAt || 0)));
    state.renderTimer = setTimeout(() => ((state.renderTimer = null), render()), wait);
  }

  const timeCell = (seconds, extra = '') => `<span class="t"${seconds === null || seconds === undefined ? '' : ` data-base="${seconds}"`}>${clock(seconds)}</span>${extra}`;

  function summaryHtml(s) {
    const tiles = [
      `<div class="state"><small>logged in</small><b data-figure="loggedIn">${s.loggedIn}</b><small>of ${s.agents} agents</small></div>`,
      `<div class="state available"><small>available</small><b data-figure="available">${s.available}</b></div>`,
    ];
    for (const a of s.activities) {
      tiles.push(`<div class="state" data-activity="${esc(a.name)}"><small>${esc(a.name)}</small><b>${a.agents}</b><small>longest ${timeCell(a.longestSeconds)}</small></div>`);
    }
    const count = (by) => Object.values(by).reduce((x, y) => x + y, 0);
    const tasks = Object.entries(s.tasks)
      .map(([ch, by]) => `${esc(ch)} ${count(by)}`)
      .join(', ');
    tiles.push(`<div class="state"><small>tasks</small><b>${Object.values(s.tasks).reduce((sum, by) => sum + count(by), 0)}</b><small>${tasks || 'none'}</small></div>`);
    tiles.push(`<div class="state"><small>parked calls</small><b data-figure="parked">${s.parked}</b></div>`);
    tiles.push(`<div class="state"><small>unheard voicemails</small><b data-figure="unheard">${s.unheard}</b></div>`);
    tiles.push(
      `<div class="state"><small>today accepted / rejected / timed out</small><b>${s.accepted} / ${s.rejected} / ${s.timedOut}</b><small>avg handle ${clock(s.avgHandleSeconds)} · wrap-up ${clock(s.avgWrapupSeconds)}</small></div>`,
    );
    return tiles.join('');
  }

  function queuesHtml(s) {
    if (!s.queues.length) return '<p class="none">No queue membership known yet.</p>';
    const acts = [...new Set(s.queues.flatMap((q) => Object.keys(q.activities)))].sort();
    const head = `<tr><th>Queue</th><th>logged in</th><th>available</th>${acts.map((a) => `<th>${esc(a)}</th>`).join('')}<th>unheard voicemails</th></tr>`;
    const rows = s.queues.map(
      (q) =>
        `<tr data-queue="${esc(q.name)}"><td>${esc(q.name)}</td><td class="n" data-figure="loggedIn">${q.loggedIn}</td><td class="n" data-figure="available">${q.available}</td>${acts.map((a) => `<td class="n">${q.activities[a] || 0}</td>`).join('')}<td class="n" data-figure="unheard">${q.unheard}</td></tr>`,
    );
    return `<table><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
  }

  function rowInner(r) {
    const tasks = r.tasks.length ? r.tasks.map((t) => `<span class="task ${esc(t.status)}">${esc(t.channel)} ${esc(t.status)} ${timeCell(t.seconds)}</span>`).join('') : '<span class="none">–</span>';
    return (
      `<td>${esc(r.name)}</td><td>${esc(r.team || '')}</td><td class="act">${esc(r.activity)}</td><td class="n time">${timeCell(r.seconds)}</td>` +
      `<td>${tasks}</td><td class="n">${r.parked ? `${r.parked} (${timeCell(r.parkedSeconds)})` : '–'}</td><td class="n" data-figure="unheard">${r.unheard || '–'}</td><td class="n">${r.accepted}</td><td class="n">${r.rejected}</td><td class="n">${r.timedOut}</td>` +
      `<td class="n">${clock(r.avgHandleSeconds)}</td><td class="n">${clock(r.avgWrapupSeconds)}</td>`
    );
  }
  // What a row shows apart from its ticking times: the row is redrawn only when this changes.
  const signature = (r) =>
    JSON.stringify([
      r.name,
      r.team,
      r.activity,
      r.state,
      r.tasks.map((t) => [t.channel, t.status]),
      r.parked,
      r.unheard,
      r.accepted,
      r.rejected,
      r.timedOut,
      r.avgHandleSeconds,
      r.avgWrapupSeconds,
      r.seconds >= 600,
    ]);

  const AGENT_HEAD =
    '<tr><th>Agent</th><th>Team</th><th>Activity</th><th>for</th><th>Tasks</th><th>Parked</th><th>Voicemail</th><th>acc.</th><th>rej.</th><th>timed out</th><th>avg handle</th><th>avg wrap-up</th></tr>';
  const rowsByKey = new Map(); // `${group}|${sid}` -> {sig, el}
  const groupsByKey = new Map(); // group key -> {el, head, body}

  function drawAgents(board) {
    const seen = new Set();
    const groupEls = [];
    for (const g of board.groups) {
      let group = groupsByKey.get(g.key);
      if (!group) {
        const el = document.createElement('div');
        el.className = 'group';
        el.innerHTML = `<h2></h2><table><thead>${AGENT_HEAD}</thead><tbody></tbody></table>`;
        group = { el, head: el.querySelector('h2'), body: el.querySelector('tbody') };
        groupsByKey.set(g.key, group);
      }
      group.el.dataset.group = g.name;
      group.head.innerHTML = `${esc(g.name)}<small>${g.loggedIn} logged in · ${g.available} available · ${g.agents.length} shown</small>`;
      const rows = g.agents.map((r) => {
        const key = `${g.key}|${r.sid}`;
        seen.add(key);
        const sig = signature(r);
        let row = rowsByKey.get(key);
        if (!row || row.sig !== sig) {
          const el = row ? row.el : document.createElement('tr');
          el.className = `${r.state}${r.state === 'unavailable' && r.seconds >= 600 ? ' long' : ''}`;
          el.dataset.sid = r.sid;
          el.innerHTML = rowInner(r);
          row = { sig, el };
          rowsByKey.set(key, row);
        } else {
          // Same content: only the times are reset to what was just computed.
          const bases = [r.seconds, ...r.tasks.map((t) => t.seconds), ...(r.parked ? [r.parkedSeconds] : [])];
          row.el.querySelectorAll('[data-base]').forEach((cell, i) => (cell.dataset.base = bases[i]));
        }
        return row.el;
      });
      // Reordering only when the order changed.
      const current = group.body.children;
      if (current.length !== rows.length || rows.some((el, i) => current[i] !== el)) group.body.replaceChildren(...rows);
      groupEls.push(group.el);
    }
    for (const key of rowsByKey.keys()) if (!seen.has(key)) rowsByKey.delete(key);
    for (const key of groupsByKey.keys()) if (!board.groups.some((g) => g.key === key)) groupsByKey.delete(key);
    const root = $('agents');
    if (!board.groups.length) root.innerHTML = `<p class="none">${board.agents ? 'No agent matches the filter.' : 'No agents yet.'}</p>`;
    else if (root.children.length !== groupEls.length || groupEls.some((el, i) => root.children[i] !== el)) root.replaceChildren(...groupEls);
    root.dataset.shown = String(board.shown);
  }

  function header() {
    const conn = $('connection');
    conn.dataset.state = state.conn;
    conn.textContent = state.conn;
    $('updated').textContent = state.lastData ? `updated ${Math.round((Date.now() - state.lastData) / 1000)} s ago` : 'no data yet';
  }

  /** Every second: the header, and each time cell = its computed seconds + the time since. */
  function tick() {
    header();
    const elapsed = Math.floor((Date.now() - (state.computedAt || Date.now())) / 1000);
    if (elapsed <= 0) return;
    for (const cell of document.querySelectorAll('[data-base]')) cell.textContent = clock(Number(cell.dataset.base) + elapsed);
  }

  function render() {
    header();
    if (!state.rules || !state.info) return;
    const started = performance.now();
    const text = `[${[...state.texts.values()].join(',')}]`;
    let summary;
    if (state.info.names) {
      const board = JSON.parse(state.rules.board(text, view, Date.now()));
      summary = board.summary;
      const select = $('activity');
      const wanted = ['', ...board.activities];
      if ([...select.options].map((o) => o.value).join('|') !== wanted.join('|')) {
        select.innerHTML = wanted.map((a) => `<option value="${esc(a)}">${a ? esc(a) : 'all'}</option>`).join('');
        select.value = view.activity;
      }
      drawAgents(board);
    } else {
      summary = state.rules.summary(text, Date.now());
      $('agents').innerHTML = '<p class="none">Counts only: this board\'s key does not show agents\' names (AGENTS_LIVE_KEY_SHOWS_NAMES).</p>';
    }
    $('summary').innerHTML = summaryHtml(summary);
    $('queues').innerHTML = queuesHtml(summary);
    state.computedAt = Date.now();
    state.renders += 1;
    state.lastRenderMs = performance.now() - started;
  }

  // ---- controls and start ----------------------------------------------------------------------
  function keepInUrl() {
    const p = new URLSearchParams(location.search);
    const set = (k, v) => (v ? p.set(k, v) : p.delete(k));
    set('group', view.groupBy === 'none' ? '' : view.groupBy);
    set('sort', view.sort === 'attention' ? '' : view.sort);
    set('activity', view.activity);
    set('filter', view.filter);
    set('hideOffline', view.hideOffline ? '1' : '');
    history.replaceState(null, '', `${location.pathname}${p.toString() ? `?${p}` : ''}`);
  }

  function controls() {
    $('group').value = view.groupBy;
    $('sort').value = view.sort;
    $('filter').value = view.filter;
    $('hide-offline').checked = view.hideOffline;
    const changed = () => (keepInUrl(), renderSoon());
    $('group').addEventListener('change', (e) => ((view.groupBy = e.target.value), changed()));
    $('sort').addEventListener('change', (e) => ((view.sort = e.target.value), changed()));
    $('activity').addEventListener('change', (e) => ((view.activity = e.target.value), changed()));
    $('filter').addEventListener('input', (e) => ((view.filter = e.target.value), changed()));
    $('hide-offline').addEventListener('change', (e) => ((view.hideOffline = e.target.checked), changed()));
    $('kiosk-link').href = `${location.pathname}?kiosk=1${view.groupBy !== 'none' ? `&group=${view.groupBy}` : ''}`;
    $('sign-out').addEventListener('click', () => {
      localStorage.removeItem('wallboard.key');
      sessionStorage.removeItem('wallboard.token');
      location.reload();
    });
    $('sign-in').addEventListener('submit', (e) => {
      e.preventDefault();
      const value = $('credential').value.trim();
      const kind = new FormData(e.target).get('kind');
      location.hash = `${kind === 'token' ? 'token' : 'key'}=${encodeURIComponent(value)}`;
      location.reload();
    });
  }

  async function start() {
    document.body.classList.toggle('kiosk', view.kiosk);
    controls();
    state.credential = window.wallboardCredential();
    if (!state.credential) {
      $('sign-in').hidden = false;
      return;
    }
    try {
      const wasm = await import('../agents-live/wasm/agents_live.js');
      await wasm.default();
      state.wasm = wasm;
      await connect();
      state.rules = new wasm.AgentsView(state.info.settings || {});
      render();
      subscribe().catch((err) => show(`Could not subscribe: ${err.message}`, 'error'));
      // Times in state tick every second in the browser: no traffic. A new day zeroes today's
      // figures: recomputed every minute even without data.
      setInterval(tick, 1000);
      setInterval(render, 60000);
    } catch (err) {
      if (err.status === 401 || err.status === 403) return denied(err);
      show(`Could not start: ${err.message}`, 'error');
    }
  }

  start();
})();
