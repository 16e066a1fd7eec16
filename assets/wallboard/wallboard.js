// The queue wallboard: live `queueStats` records from Sync (see docs/wallboard.md).
// URL: ?kiosk=1 (wallboard mode), ?channel=<one of QUEUE_STATS_CHANNELS, as /wallboard-token names them>, ?queues=Sales,WQ... (names or SIDs),
// ?order=alerts|name, ?rotate=<seconds> (kiosk page time), ?grid=<columns>x<rows> (a fixed
// wallboard grid). Credentials arrive once in the fragment (#key=... for a TV, #token=... for a
// supervisor's Flex token), are kept in storage, and the fragment is removed.
//
// Drawing: the records are kept by the rules (crates/wallboard, Store); once a second, and after a
// burst of records, the page asks them what changed and touches the DOM of those tiles only (each
// tile is built once and its text nodes updated), so a board of 2,000 queues idles cheaply.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const grid = /^(\d{1,2})x(\d{1,2})$/.exec(params.get('grid') || '');
  const view = {
    kiosk: params.get('kiosk') === '1',
    // Checked against the server's channels (QUEUE_STATS_CHANNELS) once the token answer names them.
    channel: (params.get('channel') || '').trim().toLowerCase(),
    queues: (params.get('queues') || '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    order: ['alerts', 'name'].includes(params.get('order')) ? params.get('order') : null,
    rotate: Number(params.get('rotate')) || null,
    grid: grid ? { columns: Math.max(1, Number(grid[1])), rows: Math.max(1, Number(grid[2])) } : null,
  };
  const NONE = ['\u0000none']; // a selection that matches no queue ("Select none")
  const state = {
    rules: null,
    kiosk: null,
    config: {},
    credential: null,
    info: null,
    client: null,
    conn: 'starting',
    lastData: null,
    names: new Map(),
    parked: new Map(),
    staffing: new Map(),
    soon: new Map(),
    page: 0,
    docs: new Map(),
    index: new Map(),
    tiles: new Map(), // sid -> {el, refs, tile, staffingKey}
    order: [], // every SID on screen, in order
    visible: new Set(), // wallboard mode: the tiles of the page (their "record N s ago" ticks)
    chunks: [], // normal mode: the tiles in chunks (place)
    visibleChunks: new Set(), // normal mode: the chunks in the viewport
    layout: null,
  };

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

  function screen(name) {
    document.body.dataset.screen = name;
  }

  // The sign-in form: on first use, and after a refusal (to enter another key or token).
  function askCredential(title) {
    $('sign-in-title').textContent = title;
    $('sign-in').hidden = false;
    $('sign-in').onsubmit = (e) => {
      e.preventDefault();
      const kind = new FormData(e.target).get('kind');
      localStorage.removeItem('wallboard.key');
      sessionStorage.removeItem('wallboard.token');
      location.hash = `${kind}=${encodeURIComponent($('credential').value.trim())}`;
      location.reload();
    };
  }

  // ---- Sync ---------------------------------------------------------------------------------
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
    state.tiles.clear();
    $('tiles').replaceChildren();
    $('summary').replaceChildren();
    screen('refused');
    askCredential('Enter another key or token');
    render();
  }

  // Records arrive one by one (2,000 on opening a large board): the screen is drawn once for a
  // burst, not once per record.
  function renderSoon() {
    if (!state.renderTimer) state.renderTimer = setTimeout(() => ((state.renderTimer = null), render()), 50);
  }
  function onRecord(data) {
    if (!data || !data.sid || !state.rules.set(data)) return;
    // Marks for scripts/bench-render.js (a record's arrival; at most the last 1,000 are kept).
    if (!state.firstData) state.firstData = performance.mark('wallboard:first-data');
    else if (state.firstPaint) {
      state.marks = (state.marks || 0) + 1;
      if (state.marks > 1000) (performance.clearMarks('wallboard:record'), (state.marks = 0));
      performance.mark('wallboard:record', { detail: data.sid });
    }
    state.names.set(data.sid, data.friendlyName || data.sid);
    if (data.parked) state.parked.set(data.sid, data.parked);
    state.lastData = Date.now();
    if (state.staffing.has(data.sid)) staffingSoon(data.sid);
    renderSoon();
  }
  function onRemoved(sid) {
    state.rules.remove(sid);
    state.names.delete(sid);
    state.parked.delete(sid);
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
  function indexed(entry) {
    state.index.set(entry.sid, entry);
    state.names.set(entry.sid, entry.friendlyName || entry.sid);
    openDocument(entry);
  }
  async function subscribeDocuments() {
    const index = await openMap(state.info.index);
    index.on('itemAdded', ({ item }) => indexed(item.data));
    index.on('itemRemoved', ({ key }) => {
      state.index.delete(key);
      const doc = state.docs.get(key);
      if (doc) doc.close();
      state.docs.delete(key);
      onRemoved(key);
    });
    await eachItem(index, (item) => indexed(item.data));
  }

  /** The channel picker offers the channels the server's statistics keep (the token answer's). */
  function useChannels(channels) {
    const list = Array.isArray(channels) ? channels.filter((c) => typeof c === 'string') : [];
    const select = $('channel');
    select.replaceChildren(...['', ...list].map((c) => Object.assign(document.createElement('option'), { value: c, textContent: c || 'all' })));
    if (!list.includes(view.channel)) {
      view.channel = '';
      setParam('channel', '');
    }
    select.value = view.channel;
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
    useChannels(state.info.channels);
    state.client = await window.wallboardSyncClient(state.info);
    state.client.on('connectionStateChanged', (s) => {
      state.conn = s;
      if (s === 'connected') state.lastData = state.lastData || Date.now();
      render();
    });
    state.client.on('tokenAboutToExpire', refreshToken);
    state.client.on('tokenExpired', refreshToken);
    await (state.info.layout === 'documents' ? subscribeDocuments() : subscribeMap());
    if (!state.loaded) state.loaded = performance.mark('wallboard:loaded'); // the first read is complete
    show('');
    refreshStaffing();
  }

  // ---- the board: figures, status, order and roll-up come from crates/wallboard (wasm) -------
  const selected = (r) => view.queues.length === 0 || view.queues.includes(r.sid) || view.queues.includes(r.friendlyName);
  const order = () => view.order || (view.kiosk ? state.kiosk.order : state.kiosk.normalOrder);
  const rulesView = () => ({ channel: view.channel || null, queues: view.queues, order: order() });

  const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
  const clock = (s) => (s === null || s === undefined ? '–' : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);
  const seconds = (s) => (s === null || s === undefined ? '–' : `${Math.round(s)} s`);
  const ago = (ms) => `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;
  const WORD = { ok: '✔ OK', warn: '▲ WARN', alert: '✖ ALERT', stale: '◌ STALE' };
  const AHT_FROM = { queue: "this queue's setting", default: 'wallboard default', server: 'STAFFING_DEFAULT_AHT_SECONDS' };

  // The handle time staffing used: the queue's measured one (queue history) unless this queue sets
  // its own; the wallboard's default only when nothing was measured.
  const ahtSource = (t, st) => (st.sources && st.sources.handleTime === 'measured' ? 'measured, last 7 days' : `${AHT_FROM[t.staffing.ahtFrom]}, not measured`);

  const setText = (el, text) => {
    if (el.textContent !== text) el.textContent = text;
  };
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    e.append(...children);
    return e;
  };

  const REFS = ['name', 'badge', 'waiting', 'oldest', 'sla', 'sla-label', 'sla-target', 'agents', 'today', 'asa', 'levels', 'parked', 'staffing', 'reasons', 'age'];
  let visibility = null;
  function makeTile(sid) {
    const node = $('tile-template').content.firstElementChild.cloneNode(true);
    node.dataset.sid = sid;
    const refs = {};
    for (const name of REFS) refs[name] = node.querySelector(`.${name}`);
    const entry = { el: node, refs, tile: null, staffingKey: null };
    state.tiles.set(sid, entry);
    return entry;
  }

  function fillTile(entry, t) {
    const { el: node, refs } = entry;
    const status = t.stale ? 'stale' : t.status;
    const cls = `tile s-${t.status}${t.stale ? ' stale' : ''}`;
    if (node.className !== cls) node.className = cls;
    if (node.dataset.status !== status) node.dataset.status = status;
    setText(refs.name, t.friendlyName);
    if (node.title !== t.friendlyName) node.title = t.friendlyName;
    setText(refs.badge, WORD[status]);
    setText(refs.waiting, String(t.waiting));
    setText(refs.oldest, clock(t.oldestSeconds));
    setText(refs.sla, pct(t.slaLevel));
    setText(refs['sla-label'], `SLA ${t.slaThreshold || '–'} s`);
    setText(refs['sla-target'], `target ${pct(t.slaTarget)}`);
    setText(refs.agents, `${t.available} / ${t.busy} / ${t.eligible}`);
    setText(refs.today, `${t.accepted} / ${t.abandoned}`);
    setText(refs.asa, seconds(t.asaSeconds));
    const levels = t.serviceLevels.map((l) => `${l.breached ? 1 : 0}${l.threshold} s: ${pct(l.level)}`).join('|');
    if (refs.levels.dataset.key !== levels) {
      refs.levels.dataset.key = levels;
      refs.levels.replaceChildren(...(t.serviceLevels.length ? t.serviceLevels.map((l) => el('span', l.breached ? { class: 'breached' } : {}, `${l.threshold} s: ${pct(l.level)}`)) : ['–']));
    }
    setText(refs.reasons, `${t.reasons.join(' · ') || 'within thresholds'}${t.present ? '' : ` · no ${t.channel} figures yet`}`);
    entry.tile = t;
    fillStaffing(entry);
    fillAge(entry);
  }

  // Parked calls (docs/direct-calls.md): the record's `parked` figures, the longest park ticking.
  function fillParked(entry) {
    const p = state.parked.get(entry.tile.sid);
    const row = entry.refs.parked.parentElement;
    row.hidden = !p;
    if (!p) return;
    const count = Number(p.count) || 0;
    const since = p.oldestParkedAt ? Math.max(0, Math.floor((Date.now() - Date.parse(p.oldestParkedAt)) / 1000)) : null;
    if (entry.refs.parked.dataset.count !== String(count)) entry.refs.parked.dataset.count = String(count);
    setText(entry.refs.parked, count && since !== null ? `${count} (${clock(since)})` : String(count));
  }

  function fillStaffing(entry) {
    const t = entry.tile;
    if (view.kiosk || !t) return;
    const st = state.staffing.get(t.sid);
    const key = st ? (st.error ? `e${st.error}` : `${st.agents}|${t.available}|${st.callsPerInterval}|${st.ahtSeconds}|${ahtSource(t, st)}`) : 'computing';
    if (entry.staffingKey === key) return;
    entry.staffingKey = key;
    const p = entry.refs.staffing;
    if (!st) p.replaceChildren(el('small', {}, 'staffing: computing…'));
    else if (st.error) p.replaceChildren(el('small', {}, `staffing: ${st.error}`));
    else {
      p.replaceChildren(
        'Agents needed now ',
        el('b', { class: 'needed' }, String(st.agents)),
        ' · available ',
        el('b', {}, String(t.available)),
        el('br'),
        el('small', {}, `${st.callsPerInterval} arrivals in the last ${st.intervalMinutes} min · AHT ${Math.round(st.ahtSeconds)} s (${ahtSource(t, st)})`),
      );
    }
  }

  function fillAge(entry) {
    const t = entry.tile;
    if (!t) return;
    fillParked(entry);
    setText(entry.refs.age, `${t.stale ? 'stale: ' : ''}record ${t.updatedAt ? ago(Date.parse(t.updatedAt)) : '–'}${t.message ? ` · ${t.message}` : ''}`);
  }

  function summaryItem(value, label, cls) {
    return el('div', { class: 'sum' }, el('b', cls ? { class: cls } : {}, value), ` ${label}`);
  }
  function fillSummary(s) {
    const key = JSON.stringify(s);
    if (state.summaryKey === key) return;
    state.summaryKey = key;
    $('summary').replaceChildren(
      summaryItem(String(s.queues), 'queues'),
      summaryItem(String(s.alerts), `in alert${s.warnings ? `, ${s.warnings} warn` : ''}`, 'sum-alerts'),
      summaryItem(String(s.waiting), 'waiting', 'sum-waiting'),
      summaryItem(clock(s.oldestSeconds), 'longest wait', 'sum-oldest'),
      summaryItem(`${s.available} / ${s.busy} / ${s.eligible}`, 'agents avail / busy / eligible'),
      summaryItem(`${s.accepted} / ${s.abandoned}`, 'accepted / abandoned'),
      summaryItem(seconds(s.asaSeconds), 'ASA'),
      summaryItem(pct(s.slaLevel), 'SLA (weighted)', 'sum-sla'),
    );
  }

  // Puts the tiles of `sids` in `box` in that order, building those not built yet. Nodes already
  // in place stay; a new tile is inserted where it belongs and a tile that moved is moved: the grid
  // is never rebuilt.
  function placeIn(box, sids) {
    let cur = box.firstElementChild;
    for (const sid of sids) {
      let entry = state.tiles.get(sid);
      if (!entry) entry = makeTile(sid);
      if (!entry.tile && state.latest.has(sid)) fillTile(entry, state.latest.get(sid));
      if (cur === entry.el) cur = cur.nextElementSibling;
      else box.insertBefore(entry.el, cur);
    }
    while (cur) {
      const next = cur.nextElementSibling;
      cur.remove();
      cur = next;
    }
  }

  // Normal mode: the tiles in chunks of 60 (a whole number of rows at 1 to 6 columns), each
  // skipped by the browser while off screen (content-visibility), so a board of 2,000 queues costs
  // what its visible chunks cost. Wallboard mode: the page's tiles in the grid itself.
  const CHUNK = 60;
  function place(sids) {
    const box = $('tiles');
    if (!sids.length) {
      state.chunks = [];
      box.replaceChildren(...(state.conn === 'connected' ? [el('p', { class: 'empty' }, view.queues === NONE ? 'No queue selected.' : 'No queues yet.')] : []));
      return;
    }
    if (view.kiosk) return placeIn(box, sids);
    const need = Math.ceil(sids.length / CHUNK);
    if (box.firstElementChild && !box.firstElementChild.classList.contains('chunk')) box.replaceChildren();
    while (state.chunks.length < need) {
      const chunk = el('div', { class: 'chunk' });
      state.chunks.push(chunk);
      box.append(chunk);
      if (visibility) visibility.observe(chunk);
    }
    while (state.chunks.length > need) {
      const chunk = state.chunks.pop();
      if (visibility) visibility.unobserve(chunk);
      state.visibleChunks.delete(chunk);
      chunk.remove();
    }
    state.chunks.forEach((chunk, k) => placeIn(chunk, sids.slice(k * CHUNK, k * CHUNK + CHUNK)));
  }

  function render() {
    const conn = $('connection');
    setText(conn, state.conn);
    conn.dataset.state = state.conn;
    setText($('updated'), state.lastData ? `updated ${ago(state.lastData)}` : 'no data yet');
    if (state.conn === 'denied' || !state.rules || !state.credential) return;
    const d = state.rules.delta(rulesView(), Date.now(), state.conn === 'connected');
    for (const t of d.changed) {
      state.latest.set(t.sid, t);
      const entry = state.tiles.get(t.sid);
      if (entry) fillTile(entry, t);
    }
    if (d.order) {
      state.order = d.order;
      const keep = new Set(d.order);
      for (const sid of [...state.tiles.keys()]) if (!keep.has(sid)) forget(sid);
      for (const sid of [...state.latest.keys()]) if (!keep.has(sid)) state.latest.delete(sid);
    }
    fillSummary(d.summary);
    if (view.kiosk) kioskPage(d.order !== null);
    else if (d.order) place(state.order);
    // "record N s ago" ticks on the tiles in view only.
    for (const sid of state.visible) {
      const entry = state.tiles.get(sid);
      if (entry) fillAge(entry);
    }
    for (const chunk of state.visibleChunks) {
      for (const node of chunk.children) {
        const entry = state.tiles.get(node.dataset.sid);
        if (entry) fillAge(entry);
      }
    }
    if (d.order && state.order.length && !state.firstPaint) {
      state.firstPaint = true;
      performance.mark('wallboard:first-paint');
    }
  }

  function forget(sid) {
    const entry = state.tiles.get(sid);
    if (!entry) return;
    entry.el.remove();
    state.tiles.delete(sid);
    state.visible.delete(sid);
  }

  // ---- wallboard mode: the densest readable grid, pages, rotation ---------------------------
  // A tile's content is --tile-w × --tile-h em (wallboard.css) and is scaled to fill its cell. The
  // grid is the one that shows every queue with the largest text, or, when they cannot all be
  // shown with text of at least max(12 px, 1.4 % of the screen's height) — big figures of 3.1 % and
  // more, readable from across a room — the one that shows the most at that size, in pages.
  function kioskLayout(count) {
    const box = $('tiles');
    const rect = box.getBoundingClientRect();
    const cs = getComputedStyle(box);
    const gap = parseFloat(cs.rowGap) || 0;
    const root = getComputedStyle(document.documentElement);
    const tw = Number(root.getPropertyValue('--tile-w')) || 22;
    const th = Number(root.getPropertyValue('--tile-h')) || 15;
    const minFont = Math.max(12, window.innerHeight * 0.014);
    const fixed = view.grid || { columns: state.kiosk.columns, rows: state.kiosk.rows };
    const border = parseFloat(root.fontSize) * 0.5; // a tile's top border (.5rem) is outside its content
    const font = (c, r) => Math.min((rect.width - (c - 1) * gap) / c / tw, ((rect.height - (r - 1) * gap) / r - border) / th);
    let best = null;
    for (let c = 1; c <= 16; c += 1) {
      if (fixed.columns && c !== fixed.columns) continue;
      for (let r = 1; r <= 12; r += 1) {
        if (fixed.rows && r !== fixed.rows) continue;
        const f = font(c, r);
        const cells = c * r;
        const readable = f >= minFont || (fixed.columns && fixed.rows);
        const all = cells >= count;
        const score = readable ? (all ? [2, f, -cells] : [1, cells, f]) : [0, f, 0];
        if (!best || score[0] > best.score[0] || (score[0] === best.score[0] && (score[1] > best.score[1] || (score[1] === best.score[1] && score[2] > best.score[2])))) {
          best = { columns: c, rows: r, font: f, score };
        }
      }
    }
    return { columns: best.columns, rows: best.rows, perPage: best.columns * best.rows, font: best.font };
  }

  function kioskPage(orderChanged) {
    const count = state.order.length;
    if (!state.layout || state.layout.count !== count) {
      const l = kioskLayout(Math.max(1, count));
      state.layout = { ...l, count };
      const box = $('tiles');
      box.style.setProperty('--cols', l.columns);
      box.style.setProperty('--rows', l.rows);
      orderChanged = true;
    }
    const per = state.layout.perPage;
    const pages = Math.max(1, Math.ceil(count / per));
    state.pages = pages;
    if (state.page >= pages) state.page = 0;
    const indicator = $('page-indicator');
    setText(indicator, pages > 1 ? `page ${state.page + 1} / ${pages} · ${per} ${per === 1 ? 'queue' : 'queues'} a page at a readable size${order() === 'alerts' ? ', alerts first' : ''}` : '');
    indicator.dataset.page = String(state.page + 1);
    indicator.dataset.pages = String(pages);
    const shown = state.order.slice(state.page * per, state.page * per + per);
    if (orderChanged || shown.join() !== state.shownKey) {
      state.shownKey = shown.join();
      place(shown);
      state.visible = new Set(shown);
    }
  }

  // A page stays pageSeconds (or ?rotate=), shorter when a whole rotation would take more than
  // cycleSeconds, never under 5 s.
  function rotate() {
    const pages = state.pages || 1;
    const dwell = view.rotate || Math.max(5, Math.min(state.kiosk.pageSeconds, state.kiosk.cycleSeconds / pages));
    setTimeout(() => {
      if (pages > 1) {
        state.page = (state.page + 1) % pages;
        render();
      }
      rotate();
    }, dwell * 1000);
  }

  // ---- the queue picker: search, select all shown / none ------------------------------------
  function pickerSelection() {
    if (view.queues === NONE) return new Set();
    const all = [...state.names.entries()];
    return new Set(all.filter(([sid, name]) => selected({ sid, friendlyName: name })).map(([sid]) => sid));
  }
  function applySelection(sids) {
    const names = [...state.names.entries()];
    if (sids.size === names.length && names.length) view.queues = [];
    else if (sids.size === 0) view.queues = NONE;
    else {
      const count = new Map();
      for (const [, n] of names) count.set(n, (count.get(n) || 0) + 1);
      // By name (a SID for a name two queues share), sorted: a readable, stable URL.
      view.queues = names
        .filter(([sid]) => sids.has(sid))
        .map(([sid, name]) => (count.get(name) > 1 ? sid : name))
        .sort();
    }
    setParam('queues', view.queues === NONE ? '' : view.queues.join(','));
    for (const entry of state.index.values()) openDocument(entry); // documents layout: newly selected queues
    pickerLabel();
    render();
  }
  function pickerLabel() {
    const n = view.queues === NONE ? 0 : view.queues.length;
    setText($('queues-button'), view.queues.length === 0 ? 'Queues: all' : `Queues: ${n} selected`);
  }
  function pickerList() {
    const q = $('queue-search').value.trim().toLowerCase();
    const chosen = pickerSelection();
    const rows = [...state.names.entries()].filter(([sid, name]) => !q || name.toLowerCase().includes(q) || sid.toLowerCase().includes(q)).sort((a, b) => a[1].localeCompare(b[1]));
    $('queue-count').textContent = `${rows.length} of ${state.names.size} queues shown · ${chosen.size} selected`;
    $('queue-list').replaceChildren(
      ...rows.slice(0, 500).map(([sid, name]) => {
        const box = el('input', { type: 'checkbox', value: sid });
        box.checked = chosen.has(sid);
        return el('li', {}, el('label', {}, box, ` ${name}`));
      }),
    );
    if (rows.length > 500) $('queue-list').append(el('li', { class: 'muted' }, `${rows.length - 500} more: narrow the search`));
    return rows;
  }
  function setupPicker() {
    const button = $('queues-button');
    const panel = $('queue-picker');
    const toggle = (open) => {
      panel.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      if (open) {
        pickerList();
        $('queue-search').focus();
      }
    };
    button.onclick = () => toggle(panel.hidden);
    $('queues-close').onclick = () => (toggle(false), button.focus());
    document.addEventListener('keydown', (e) => e.key === 'Escape' && !panel.hidden && (toggle(false), button.focus()));
    $('queue-search').oninput = pickerList;
    $('queue-list').onchange = (e) => {
      const chosen = pickerSelection();
      if (e.target.checked) chosen.add(e.target.value);
      else chosen.delete(e.target.value);
      applySelection(chosen); // the list stays as it is (and the focus on its box)
      $('queue-count').textContent = $('queue-count').textContent.replace(/\d+ selected$/, `${pickerSelection().size} selected`);
    };
    $('queues-all').onclick = () => {
      const chosen = pickerSelection();
      const q = $('queue-search').value.trim().toLowerCase();
      for (const [sid, name] of state.names) if (!q || name.toLowerCase().includes(q) || sid.toLowerCase().includes(q)) chosen.add(sid);
      applySelection(chosen);
      pickerList();
    };
    $('queues-none').onclick = () => {
      applySelection(new Set());
      pickerList();
    };
    pickerLabel();
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
    const batches = state.rules.storedStaffingRequests(rulesView(), Date.now(), only || null);
    for (const batch of batches) {
      try {
        const { results } = await api('/staffing', batch);
        for (const r of results) state.staffing.set(r.queueSid, r.error ? { error: r.error } : r);
      } catch (err) {
        for (const q of batch.queues) state.staffing.set(q.queueSid, { error: err.message });
      }
      for (const q of batch.queues) {
        const entry = state.tiles.get(q.queueSid);
        if (entry) fillStaffing(entry);
      }
    }
    if (only) return;
    clearTimeout(state.staffingTimer);
    state.staffingTimer = setTimeout(refreshStaffing, state.kiosk.staffingRefreshSeconds * 1000);
  }

  function whatIf(event) {
    event.preventDefault();
    const body = Object.fromEntries([...new FormData(event.target)].filter(([, v]) => String(v).trim() !== ''));
    const out = $('what-if-result');
    const button = event.target.querySelector('button');
    const asked = (state.whatIfAsked = (state.whatIfAsked || 0) + 1);
    out.setAttribute('aria-busy', 'true');
    out.replaceChildren(el('p', { class: 'computing' }, 'computing…'));
    button.disabled = true;
    const done = (nodes) => {
      if (asked !== state.whatIfAsked) return; // a newer question was asked meanwhile
      out.removeAttribute('aria-busy');
      button.disabled = false;
      out.replaceChildren(...nodes);
    };
    api('/staffing', body)
      .then((a) => {
        const w = a.withAgents;
        const first = el(
          'p',
          {},
          el('b', {}, String(a.agents)),
          ' agents on the phones, ',
          el('b', {}, String(a.scheduledAgents)),
          ` scheduled · ${a.intensityErlangs.toFixed(2)} Erlangs · SLA ${pct(a.serviceLevel)} · P(wait) ${pct(a.probabilityOfWaiting)} · ASA ${a.asaSeconds.toFixed(1)} s · occupancy ${pct(a.occupancy)}`,
        );
        const second = w
          ? [
              el(
                'p',
                {},
                `With ${w.agents} agents: ${w.enoughAgents ? `SLA ${pct(w.serviceLevel)}, ASA ${w.asaSeconds.toFixed(1)} s, occupancy ${pct(w.occupancy)}` : 'not enough agents: the queue grows without bound'}`,
              ),
            ]
          : [];
        done([first, ...second]);
      })
      .catch((err) => done([el('p', { class: 'error' }, err.message)]));
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
    state.latest = new Map(); // sid -> the tile last answered by the rules
    $('channel').value = view.channel;
    $('channel').onchange = (e) => {
      view.channel = e.target.value;
      setParam('channel', view.channel);
      render();
      state.staffing.clear();
      for (const entry of state.tiles.values()) fillStaffing(entry);
      refreshStaffing();
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
    setupPicker();
    state.credential = window.wallboardCredential();
    try {
      const wasm = await import('./wasm/wallboard.js');
      await wasm.default();
      const configText = await fetch('config.json').then((r) => r.text());
      state.rules = new wasm.Wallboard(configText);
      state.kiosk = state.rules.kiosk();
      state.config = JSON.parse(configText);
    } catch (err) {
      screen('error');
      return show(`The wallboard cannot start: ${err.message}`, 'error');
    }
    // The what-if panel starts from the board's SLA threshold.
    if (state.config.slaThresholdSeconds) $('what-if-form').elements.thresholdSeconds.value = String(state.config.slaThresholdSeconds);
    if (!state.credential) {
      screen('sign-in');
      askCredential('Open the wallboard');
      return;
    }
    screen('board');
    if (!view.kiosk && 'IntersectionObserver' in window) {
      visibility = new IntersectionObserver((entries) => {
        for (const e of entries) {
          if (e.isIntersecting) state.visibleChunks.add(e.target);
          else state.visibleChunks.delete(e.target);
        }
      });
    }
    setInterval(render, 1000);
    if (view.kiosk) {
      rotate();
      // The grid follows the space the tiles have (the screen, and the header and summary above,
      // which wrap differently as figures change).
      let last = '';
      new ResizeObserver(([e]) => {
        const size = `${Math.round(e.contentRect.width)}x${Math.round(e.contentRect.height)}`;
        if (size === last) return;
        last = size;
        state.layout = null;
        render();
      }).observe($('tiles'));
    }
    connect().catch((err) => (err.status === 401 || err.status === 403 ? denied(err) : show(`Could not connect: ${err.message}`, 'error')));
  }

  start();
})();
