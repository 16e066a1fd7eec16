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
  const state = { config: null, credential: null, info: null, client: null, conn: 'starting', lastData: null, records: new Map(), staffing: new Map(), soon: new Map(), page: 0, docs: new Map(), index: new Set() };

  // ---- credentials -------------------------------------------------------------------------
  function takeCredential() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get('key')) localStorage.setItem('wallboard.key', fragment.get('key'));
    if (fragment.get('token')) sessionStorage.setItem('wallboard.token', fragment.get('token'));
    if (location.hash) history.replaceState(null, '', location.pathname + location.search);
    const token = sessionStorage.getItem('wallboard.token');
    const key = localStorage.getItem('wallboard.key');
    return token ? { kind: 'token', value: token } : key ? { kind: 'key', value: key } : null;
  }
  const authHeader = () => (state.credential.kind === 'key' ? `Wallboard ${state.credential.value}` : `Bearer ${state.credential.value}`);

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

  function onRecord(data) {
    if (!data || !data.sid) return;
    state.records.set(data.sid, data);
    state.lastData = Date.now();
    if (state.staffing.has(data.sid)) staffingSoon(data.sid);
    render();
  }
  function onRemoved(sid) {
    state.records.delete(sid);
    state.lastData = Date.now();
    render();
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
    index.on('itemAdded', ({ item }) => state.index.add(item.key) && openDocument(item.data));
    index.on('itemRemoved', ({ key }) => {
      state.index.delete(key);
      const doc = state.docs.get(key);
      if (doc) doc.close();
      state.docs.delete(key);
      onRemoved(key);
    });
    await eachItem(index, (item) => state.index.add(item.key) && openDocument(item.data));
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

  // ---- figures and colours ------------------------------------------------------------------
  const queueConfig = (r) => {
    const c = state.config;
    const own = (c.queues && (c.queues[r.sid] || c.queues[r.friendlyName])) || {};
    return { ...c, ...own, ahtOwn: own.ahtSeconds !== undefined, waitingTasks: { ...c.waitingTasks, ...own.waitingTasks }, longestWaitSeconds: { ...c.longestWaitSeconds, ...own.longestWaitSeconds } };
  };
  const selected = (r) => view.queues.length === 0 || view.queues.includes(r.sid) || view.queues.includes(r.friendlyName);

  function figures(r, now) {
    const ch = view.channel || 'all';
    const rt = r[`realTimeStats_${ch}`] || {};
    const cu = r[`cumulativeStats_${ch}`] || {};
    const cfg = queueConfig(r);
    const waiting = rt.tasksByStatus ? (rt.tasksByStatus.pending || 0) + (rt.tasksByStatus.reserved || 0) : 0;
    const enteredAt = ch === 'all' ? r.oldestTaskEnteredAt || rt.oldestTaskEnteredAt : rt.oldestTaskEnteredAt;
    const oldest = waiting > 0 && enteredAt ? Math.max(0, Math.floor((now - Date.parse(enteredAt)) / 1000)) : 0;
    const offline = ((rt.activityStatistics || []).find((a) => a.friendly_name === 'Offline') || {}).workers || 0;
    const eligible = rt.eligibleWorkers || 0;
    const available = rt.availableWorkers || 0;
    const target = cfg.slaTarget || r.slaTarget || 0.8;
    const sl = cu.serviceLevel || {};
    const primary = sl[String(cfg.slaThresholdSeconds)] ? String(cfg.slaThresholdSeconds) : Object.keys(sl)[0];
    const level = primary && sl[primary] ? sl[primary].level : null;
    return { ch, r, cfg, waiting, oldest, available, busy: Math.max(0, eligible - available - offline), eligible, accepted: cu.rAccepted || 0, abandoned: cu.tCanc || 0, asa: cu.avgTaskAcceptanceTime || 0, sl, primary, level, target, present: Boolean(r[`realTimeStats_${ch}`]) };
  }

  const RANK = { ok: 0, warn: 1, alert: 2 };
  function assess(f) {
    const out = [];
    const check = (value, limits, label, fmt) => {
      if (value >= limits.alert) out.push(['alert', `${label} ${fmt(value)} ≥ ${fmt(limits.alert)}`]);
      else if (value >= limits.warn) out.push(['warn', `${label} ${fmt(value)} ≥ ${fmt(limits.warn)}`]);
    };
    if (f.level !== null && f.level !== undefined) {
      if (f.level < f.target) out.push(['alert', `SLA ${f.primary} s ${pct(f.level)} < ${pct(f.target)}`]);
      else if (f.level < f.target + f.cfg.slaWarnMargin) out.push(['warn', `SLA ${f.primary} s ${pct(f.level)} near ${pct(f.target)}`]);
    }
    check(f.waiting, f.cfg.waitingTasks, 'waiting', String);
    check(f.oldest, f.cfg.longestWaitSeconds, 'longest wait', clock);
    const status = out.reduce((worst, [s]) => (RANK[s] > RANK[worst] ? s : worst), 'ok');
    return { status, reasons: out.map(([, text]) => text) };
  }

  const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
  const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  const ago = (ms) => `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const WORD = { ok: '✔ OK', warn: '▲ WARN', alert: '✖ ALERT', stale: '◌ STALE' };

  function summary(list) {
    const sum = (k) => list.reduce((n, f) => n + f[k], 0);
    const weight = (f) => f.accepted + f.abandoned;
    const weighted = list.filter((f) => f.level !== null && f.level !== undefined && weight(f) > 0);
    const total = weighted.reduce((n, f) => n + weight(f), 0);
    const level = total ? weighted.reduce((n, f) => n + f.level * weight(f), 0) / total : null;
    const asaN = sum('accepted');
    return { waiting: sum('waiting'), oldest: list.reduce((m, f) => Math.max(m, f.oldest), 0), available: sum('available'), busy: sum('busy'), eligible: sum('eligible'), accepted: asaN, abandoned: sum('abandoned'), asa: asaN ? Math.round(list.reduce((n, f) => n + f.asa * f.accepted, 0) / asaN) : 0, level };
  }

  function tileHtml(f, a, stale) {
    const st = state.staffing.get(f.r.sid);
    const ahtFrom = st && st.sources && st.sources.handleTime === 'configured' ? 'STAFFING_DEFAULT_AHT_SECONDS' : f.cfg.ahtOwn ? "this queue's setting" : 'wallboard default';
    const staffing = !st
      ? '<p class="staffing"><small>staffing: computing…</small></p>'
      : st.error
        ? `<p class="staffing"><small>staffing: ${esc(st.error)}</small></p>`
        : `<p class="staffing">Agents needed now <b class="needed">${st.agents}</b> · available <b>${f.available}</b><br><small>${st.callsPerInterval} arrivals in the last ${st.intervalMinutes} min · AHT ${Math.round(st.ahtSeconds)} s (${ahtFrom}, not measured)</small></p>`;
    const levels = Object.entries(f.sl).map(([t, v]) => `<span class="${v.breached ? 'breached' : ''}">${t} s: ${pct(v.level)}</span>`).join(' ');
    const status = stale ? 'stale' : a.status;
    return `<article class="tile s-${a.status}${stale ? ' stale' : ''}" data-sid="${esc(f.r.sid)}" data-status="${status}">
      <header><h2>${esc(f.r.friendlyName || f.r.sid)}</h2><span class="badge">${WORD[status]}</span></header>
      <div class="main"><div><span class="big waiting">${f.waiting}</span><label>waiting</label></div>
        <div><span class="big oldest" data-entered="${f.oldest}">${f.waiting ? clock(f.oldest) : '–'}</span><label>longest wait</label></div>
        <div><span class="big sla">${pct(f.level)}</span><label title="service level at ${f.primary || '–'} s, target ${pct(f.target)}">SLA ${f.primary || '–'} s / ${pct(f.target)}</label></div></div>
      <dl><dt>Agents avail / busy / eligible</dt><dd class="agents">${f.available} / ${f.busy} / ${f.eligible}</dd>
        <dt>Accepted / abandoned today</dt><dd>${f.accepted} / ${f.abandoned}</dd><dt>ASA</dt><dd>${f.asa} s</dd>
        <dt>Service level</dt><dd class="levels">${levels || '–'}</dd></dl>
      ${view.kiosk ? '' : staffing}
      <p class="reasons">${a.reasons.map(esc).join(' · ') || 'within thresholds'}${f.present ? '' : ` · no ${esc(f.ch)} figures yet`}</p>
      <footer>${stale ? 'stale: ' : ''}record ${f.r.updatedAt ? ago(Date.parse(f.r.updatedAt)) : '–'}${f.r.realTimeStatsMessage ? ` · ${esc(f.r.realTimeStatsMessage)}` : ''}</footer>
    </article>`;
  }

  function render() {
    const conn = $('connection');
    conn.textContent = state.conn;
    conn.dataset.state = state.conn;
    $('updated').textContent = state.lastData ? `updated ${ago(state.lastData)}` : 'no data yet';
    if (state.conn === 'denied' || !state.config) return;
    const now = Date.now();
    const list = [...state.records.values()].filter(selected).sort((a, b) => String(a.friendlyName).localeCompare(String(b.friendlyName))).map((r) => figures(r, now));
    const connected = state.conn === 'connected';
    const s = summary(list);
    $('summary').innerHTML = `<div class="sum"><b>${list.length}</b> queues</div><div class="sum"><b class="sum-waiting">${s.waiting}</b> waiting</div><div class="sum"><b class="sum-oldest">${s.waiting ? clock(s.oldest) : '–'}</b> longest wait</div><div class="sum"><b>${s.available} / ${s.busy} / ${s.eligible}</b> agents avail / busy / eligible</div><div class="sum"><b>${s.accepted} / ${s.abandoned}</b> accepted / abandoned</div><div class="sum"><b>${s.asa} s</b> ASA</div><div class="sum"><b class="sum-sla">${pct(s.level)}</b> SLA (weighted)</div>`;
    let shown = list;
    const indicator = $('page-indicator');
    if (view.kiosk) {
      const per = Math.max(1, state.config.kiosk.columns * state.config.kiosk.rows);
      const pages = Math.max(1, Math.ceil(list.length / per));
      state.page %= pages;
      shown = list.slice(state.page * per, state.page * per + per);
      indicator.textContent = pages > 1 ? `page ${state.page + 1} / ${pages}` : '';
      indicator.dataset.page = String(state.page + 1);
    }
    $('tiles').innerHTML = shown.map((f) => tileHtml(f, assess(f), !connected || Boolean(f.r.realTimeStatsMessage || f.r.cumulativeStatsMessage))).join('') || (connected ? '<p class="empty">No queues yet.</p>' : '');
  }

  // ---- staffing -----------------------------------------------------------------------------
  // A queue's figure is refreshed at most every 15 s after its record changes, and all every minute.
  function staffingSoon(sid) {
    if (!state.config || state.soon.has(sid)) return;
    state.soon.set(sid, setTimeout(() => refreshStaffing([sid]).finally(() => state.soon.delete(sid)), 15000));
  }

  async function refreshStaffing(only) {
    const list = [...state.records.values()].filter(selected).filter((r) => !only || only.includes(r.sid));
    for (const r of list) {
      const cfg = queueConfig(r);
      const f = figures(r, Date.now());
      const body = { queueSid: r.sid, thresholdSeconds: f.primary || cfg.slaThresholdSeconds, target: f.target, ...(view.channel ? { channel: view.channel } : {}), ...(cfg.ahtSeconds ? { ahtSeconds: cfg.ahtSeconds } : {}) };
      try {
        state.staffing.set(r.sid, await api('/staffing', body));
      } catch (err) {
        state.staffing.set(r.sid, { error: err.message });
      }
    }
    render();
    if (only) return;
    clearTimeout(state.staffingTimer);
    state.staffingTimer = setTimeout(refreshStaffing, (state.config.staffingRefreshSeconds || 60) * 1000);
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
    state.credential = takeCredential();
    state.config = await fetch('config.json').then((r) => r.json());
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
    const pageSeconds = view.rotate || state.config.kiosk.pageSeconds || 12;
    if (view.kiosk) setInterval(() => ((state.page += 1), render()), pageSeconds * 1000);
    connect().catch((err) => (err.status === 401 || err.status === 403 ? denied(err) : show(`Could not connect: ${err.message}`, 'error')));
  }

  start();
})();
