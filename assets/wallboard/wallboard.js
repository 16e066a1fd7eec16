// The queue wallboard: live `queueStats` records from Sync (see docs/wallboard.md).
// URL: ?kiosk=1 (wallboard mode), ?channel=voice|chat|video, ?queues=Sales,WQ... (names or SIDs),
// ?rotate=<seconds> (kiosk page time). Credentials arrive once in the fragment (#key=... for a TV,
// #token=... for a supervisor's Flex token), are kept in storage, and the fragment is removed.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const view = {
    kiosk: params.get('kiosk') === '1',
    channel: ['voice', 'chat', 'video'].includes(params.get('channel')) ? params.get('channel') : '',
    queues: (params.get('queues') || '').split(',').map((s) => s.trim()).filter(Boolean),
    rotate: Number(params.get('rotate')) || null,
  };
  const state = { rules: null, kiosk: null, credential: null, info: null, client: null, conn: 'starting', lastData: null, records: new Map(), staffing: new Map(), soon: new Map(), page: 0, docs: new Map(), index: new Map() };

  // ---- credentials -------------------------------------------------------------------------
  const authHeader = () => state.credential;

  async function api(path, body) {
    const res = await fetch(path, { method: 'POST', headers: { Authorization: authHeader(), 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) });
    const answer = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw Object.assign(new Error(answer.error || `HTTP ${res.status}`), { status: res.status, answer });
    return answer;
  }

  function show(message, kind) {
    const el = $('message');
    el.hidden = !message;
    el.textContent = message || '';
    el.className = kind || '';
  }

  // ---- Sync ---------------------------------------------------------------------------------
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.appendChild(s);
    });
  }

  async function makeClient(info) {
    if (info.emulatorOrigin) {
      if (!window.EmulatorSync) await loadScript(`${info.emulatorOrigin}/emulator/sync/client.js`);
      return new window.EmulatorSync.Client(info.token, { origin: info.emulatorOrigin });
    }
    return new window.Twilio.Sync.Client(info.token);
  }

  function refreshToken() {
    state.refreshing = state.refreshing || renewToken().finally(() => (state.refreshing = null));
    return state.refreshing;
  }

  async function renewToken() {
    for (let attempt = 0; ; attempt += 1) {
      try {
        state.info = await api('/wallboard-token');
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
    $('tiles').innerHTML = '';
    $('summary').innerHTML = '';
    render();
  }

  // Records arrive one by one (2,000 on opening a large board): the screen is drawn once for a
  // burst, not once per record.
  function renderSoon() {
    if (!state.renderTimer) state.renderTimer = setTimeout(() => ((state.renderTimer = null), render()), 50);
  }
  function onRecord(data) {
    if (!data || !data.sid) return;
    state.records.set(data.sid, data);
    state.lastData = Date.now();
    if (state.staffing.has(data.sid)) staffingSoon(data.sid);
    renderSoon();
  }
  function onRemoved(sid) {
    state.records.delete(sid);
    state.lastData = Date.now();
    renderSoon();
  }

  // A map that does not exist yet (no statistics so far) is waited for. Where Sync enforces ACL,
  // read permission is granted when a token is minted, so an object created since then is refused
  // (403) until the next token: get one now.
  async function openMap(name) {
    for (;;) {
      try {
        return await state.client.map({ id: name, mode: 'open_existing' });
      } catch (err) {
        show(`Waiting for queue statistics (${name}: ${err.message})`, 'info');
        if (err.status === 403) await refreshToken();
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }

  async function eachItem(map, fn) {
    let page = await map.getItems({ pageSize: 100 });
    for (;;) {
      page.items.forEach(fn);
      if (!page.hasNextPage) break;
      page = await page.nextPage();
    }
  }

  async function subscribeMap() {
    const map = await openMap(state.info.map);
    map.on('itemAdded', ({ item }) => onRecord(item.data));
    map.on('itemUpdated', ({ item }) => onRecord(item.data));
    map.on('itemRemoved', ({ key }) => onRemoved(key));
    await eachItem(map, (item) => onRecord(item.data));
  }

  // Documents layout: the index lists queues; only the documents of queues on screen are opened.
  async function openDocument(entry) {
    if (!selected({ sid: entry.sid, friendlyName: entry.friendlyName }) || state.docs.has(entry.sid)) return;
    // Sync allows 2,000 subscribed objects per connection: the index plus 1,999 documents.
    if (state.docs.size >= 1999) return show('More than 1,999 queues selected: Sync allows 2,000 objects per connection; narrow the selection (?queues=).', 'error');
    state.docs.set(entry.sid, null);
    const doc = await state.client.document({ id: entry.document, mode: 'open_existing' }).catch(async (err) => {
      if (err.status === 403) await refreshToken(); // see openMap
      return null;
    });
    if (!doc) {
      state.docs.delete(entry.sid);
      // Not readable yet (just created, or no permission until the new token): try again shortly.
      return setTimeout(() => state.index.has(entry.sid) && openDocument(entry), 3000);
    }
    state.docs.set(entry.sid, doc);
    doc.on('updated', ({ data }) => onRecord(data));
    doc.on('removed', () => onRemoved(entry.sid));
    onRecord(doc.data);
  }
  async function subscribeDocuments() {
    const index = await openMap(state.info.index);
    index.on('itemAdded', ({ item }) => state.index.set(item.key, item.data) && openDocument(item.data));
    index.on('itemRemoved', ({ key }) => {
      state.index.delete(key);
      const doc = state.docs.get(key);
      if (doc) doc.close();
      state.docs.delete(key);
      onRemoved(key);
    });
    await eachItem(index, (item) => state.index.set(item.key, item.data) && openDocument(item.data));
  }

  async function connect() {
    try {
      state.info = await api('/wallboard-token');
    } catch (err) {
      if (err.status === 401 || err.status === 403) return denied(err);
      show(`Could not get a Sync token: ${err.message}; retrying`, 'error');
      return setTimeout(connect, 5000);
    }
    show('');
    state.client = await makeClient(state.info);
    state.client.on('connectionStateChanged', (s) => {
      state.conn = s;
      if (s === 'connected') state.lastData = state.lastData || Date.now();
      render();
    });
    state.client.on('tokenAboutToExpire', refreshToken);
    state.client.on('tokenExpired', refreshToken);
    await (state.info.layout === 'documents' ? subscribeDocuments() : subscribeMap());
    show('');
    refreshStaffing();
  }

  // ---- the board: figures, status and roll-up come from crates/wallboard (wasm) -------------
  const selected = (r) => view.queues.length === 0 || view.queues.includes(r.sid) || view.queues.includes(r.friendlyName);
  const currentBoard = () => state.rules.board([...state.records.values()], { channel: view.channel || null, queues: view.queues }, Date.now(), state.conn === 'connected');

  const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
  const clock = (s) => (s === null || s === undefined ? '–' : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);
  const ago = (ms) => `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const WORD = { ok: '✔ OK', warn: '▲ WARN', alert: '✖ ALERT', stale: '◌ STALE' };
  const AHT_FROM = { queue: "this queue's setting", default: 'wallboard default', server: 'STAFFING_DEFAULT_AHT_SECONDS' };

  // The handle time staffing used: the queue's measured one (queue history) unless this queue sets
  // its own; the wallboard's default only when nothing was measured.
  const ahtSource = (t, st) => (st.sources && st.sources.handleTime === 'measured' ? 'measured, last 7 days' : `${AHT_FROM[t.staffing.ahtFrom]}, not measured`);

  // Parked calls (docs/direct-calls.md): the record's `parked` figures, the longest park ticking.
  function parkedHtml(sid) {
    const p = (state.records.get(sid) || {}).parked;
    if (!p) return '';
    const since = p.oldestParkedAt ? Math.max(0, Math.floor((Date.now() - Date.parse(p.oldestParkedAt)) / 1000)) : null;
    return `<dt>Parked (longest)</dt><dd class="parked" data-count="${Number(p.count) || 0}">${Number(p.count) || 0}${p.count ? ` (${clock(since)})` : ''}</dd>`;
  }

  function tileHtml(t) {
    const st = state.staffing.get(t.sid);
    const staffing = !st
      ? '<p class="staffing"><small>staffing: computing…</small></p>'
      : st.error
        ? `<p class="staffing"><small>staffing: ${esc(st.error)}</small></p>`
        : `<p class="staffing">Agents needed now <b class="needed">${st.agents}</b> · available <b>${t.available}</b><br><small>${st.callsPerInterval} arrivals in the last ${st.intervalMinutes} min · AHT ${Math.round(st.ahtSeconds)} s (${ahtSource(t, st)})</small></p>`;
    const levels = t.serviceLevels.map((l) => `<span class="${l.breached ? 'breached' : ''}">${esc(l.threshold)} s: ${pct(l.level)}</span>`).join(' ');
    const status = t.stale ? 'stale' : t.status;
    return `<article class="tile s-${t.status}${t.stale ? ' stale' : ''}" data-sid="${esc(t.sid)}" data-status="${status}">
      <header><h2>${esc(t.friendlyName)}</h2><span class="badge">${WORD[status]}</span></header>
      <div class="main"><div><span class="big waiting">${t.waiting}</span><label>waiting</label></div>
        <div><span class="big oldest">${clock(t.oldestSeconds)}</span><label>longest wait</label></div>
        <div><span class="big sla">${pct(t.slaLevel)}</span><label title="service level at ${esc(t.slaThreshold || '–')} s, target ${pct(t.slaTarget)}">SLA ${esc(t.slaThreshold || '–')} s / ${pct(t.slaTarget)}</label></div></div>
      <dl><dt>Agents avail / busy / eligible</dt><dd class="agents">${t.available} / ${t.busy} / ${t.eligible}</dd>
        <dt>Accepted / abandoned today</dt><dd>${t.accepted} / ${t.abandoned}</dd><dt>ASA</dt><dd>${t.asaSeconds} s</dd>
        <dt>Service level</dt><dd class="levels">${levels || '–'}</dd>${parkedHtml(t.sid)}</dl>
      ${view.kiosk ? '' : staffing}
      <p class="reasons">${t.reasons.map(esc).join(' · ') || 'within thresholds'}${t.present ? '' : ` · no ${esc(t.channel)} figures yet`}</p>
      <footer>${t.stale ? 'stale: ' : ''}record ${t.updatedAt ? ago(Date.parse(t.updatedAt)) : '–'}${t.message ? ` · ${esc(t.message)}` : ''}</footer>
    </article>`;
  }

  function render() {
    const conn = $('connection');
    conn.textContent = state.conn;
    conn.dataset.state = state.conn;
    $('updated').textContent = state.lastData ? `updated ${ago(state.lastData)}` : 'no data yet';
    if (state.conn === 'denied' || !state.rules) return;
    const { tiles, summary: s } = currentBoard();
    $('summary').innerHTML = `<div class="sum"><b>${s.queues}</b> queues</div><div class="sum"><b class="sum-waiting">${s.waiting}</b> waiting</div><div class="sum"><b class="sum-oldest">${clock(s.oldestSeconds)}</b> longest wait</div><div class="sum"><b>${s.available} / ${s.busy} / ${s.eligible}</b> agents avail / busy / eligible</div><div class="sum"><b>${s.accepted} / ${s.abandoned}</b> accepted / abandoned</div><div class="sum"><b>${s.asaSeconds} s</b> ASA</div><div class="sum"><b class="sum-sla">${pct(s.slaLevel)}</b> SLA (weighted)</div>`;
    let shown = tiles;
    const indicator = $('page-indicator');
    if (view.kiosk) {
      const per = Math.max(1, state.kiosk.columns * state.kiosk.rows);
      const pages = Math.max(1, Math.ceil(tiles.length / per));
      state.page %= pages;
      shown = tiles.slice(state.page * per, state.page * per + per);
      indicator.textContent = pages > 1 ? `page ${state.page + 1} / ${pages}` : '';
      indicator.dataset.page = String(state.page + 1);
    }
    $('tiles').innerHTML = shown.map(tileHtml).join('') || (state.conn === 'connected' ? '<p class="empty">No queues yet.</p>' : '');
  }

  // ---- staffing -----------------------------------------------------------------------------
  // Every tile's figure in one batched `/staffing` request (crates/wallboard says what to ask):
  // all tiles every staffingRefreshSeconds, and the queues whose record changed at most every 15 s,
  // together. An open board costs the same few requests a minute with 5 queues or 2,000.
  function staffingSoon(sid) {
    if (!state.rules) return;
    state.soon.set(sid, true);
    if (state.soonTimer) return;
    state.soonTimer = setTimeout(() => {
      const only = [...state.soon.keys()];
      state.soon.clear();
      state.soonTimer = null;
      refreshStaffing(only);
    }, 15000);
  }

  async function refreshStaffing(only) {
    const records = [...state.records.values()];
    const batches = state.rules.staffingRequests(records, { channel: view.channel || null, queues: view.queues }, Date.now(), only || null);
    for (const batch of batches) {
      try {
        const { results } = await api('/staffing', batch);
        for (const r of results) state.staffing.set(r.queueSid, r.error ? { error: r.error } : r);
      } catch (err) {
        for (const q of batch.queues) state.staffing.set(q.queueSid, { error: err.message });
      }
    }
    render();
    if (only) return;
    clearTimeout(state.staffingTimer);
    state.staffingTimer = setTimeout(refreshStaffing, state.kiosk.staffingRefreshSeconds * 1000);
  }

  function whatIf(event) {
    event.preventDefault();
    const body = Object.fromEntries([...new FormData(event.target)].filter(([, v]) => String(v).trim() !== ''));
    const out = $('what-if-result');
    api('/staffing', body)
      .then((a) => {
        const w = a.withAgents;
        out.innerHTML = `<p><b>${a.agents}</b> agents on the phones, <b>${a.scheduledAgents}</b> scheduled · ${a.intensityErlangs.toFixed(2)} Erlangs · SLA ${pct(a.serviceLevel)} · P(wait) ${pct(a.probabilityOfWaiting)} · ASA ${a.asaSeconds.toFixed(1)} s · occupancy ${pct(a.occupancy)}</p>` +
          (w ? `<p>With ${w.agents} agents: ${w.enoughAgents ? `SLA ${pct(w.serviceLevel)}, ASA ${w.asaSeconds.toFixed(1)} s, occupancy ${pct(w.occupancy)}` : 'not enough agents: the queue grows without bound'}</p>` : '');
      })
      .catch((err) => (out.textContent = err.message));
  }

  // ---- URL state and start ------------------------------------------------------------------
  function setParam(name, value) {
    const p = new URLSearchParams(location.search);
    if (value) p.set(name, value);
    else p.delete(name);
    history.replaceState(null, '', `${location.pathname}${p.toString() ? `?${p}` : ''}`);
  }

  async function start() {
    document.body.classList.toggle('kiosk', view.kiosk);
    $('channel').value = view.channel;
    $('queues').value = view.queues.join(',');
    $('channel').onchange = (e) => {
      view.channel = e.target.value;
      setParam('channel', view.channel);
      render();
      state.staffing.clear();
      refreshStaffing();
    };
    $('queues').onchange = (e) => {
      view.queues = e.target.value.split(',').map((s) => s.trim()).filter(Boolean);
      setParam('queues', view.queues.join(','));
      for (const entry of state.index.values()) openDocument(entry); // documents layout: newly selected queues
      render();
    };
    $('kiosk-link').onclick = (e) => {
      e.preventDefault();
      setParam('kiosk', '1');
      location.reload();
    };
    $('sign-out').onclick = () => {
      localStorage.removeItem('wallboard.key');
      sessionStorage.removeItem('wallboard.token');
      location.reload();
    };
    $('what-if-form').onsubmit = whatIf;
    state.credential = window.wallboardCredential();
    try {
      const wasm = await import('./wasm/wallboard.js');
      await wasm.default();
      state.rules = new wasm.Wallboard(await fetch('config.json').then((r) => r.text()));
      state.kiosk = state.rules.kiosk();
    } catch (err) {
      return show(`The wallboard cannot start: ${err.message}`, 'error');
    }
    if (!state.credential) {
      $('sign-in').hidden = false;
      $('sign-in').onsubmit = (e) => {
        e.preventDefault();
        const kind = new FormData(e.target).get('kind');
        location.hash = `${kind}=${encodeURIComponent($('credential').value.trim())}`;
        location.reload();
      };
      return;
    }
    setInterval(render, 1000);
    const pageSeconds = view.rotate || state.kiosk.pageSeconds;
    if (view.kiosk) setInterval(() => ((state.page += 1), render()), pageSeconds * 1000);
    connect().catch((err) => (err.status === 401 || err.status === 403 ? denied(err) : show(`Could not connect: ${err.message}`, 'error')));
  }

  start();
})();
