// The voicemail box page (docs/voicemail.md). Talks to /voicemail with the Flex token in the
// Authorization header; the audio is fetched the same way and played from a blob: URL, since a
// token must never be in a URL (an <audio src> could only send it there).
(function voicemailPage() {
  const $ = (id) => document.getElementById(id);
  const state = { credential: null, workerSid: new URLSearchParams(location.search).get('workerSid') || '', items: [], next: null, playing: null };

  function show(text, error) {
    $('message').hidden = !text;
    $('message').textContent = text || '';
    $('message').className = error ? 'error' : '';
  }

  async function call(method, params) {
    const headers = { Authorization: state.credential };
    let url = '/voicemail';
    let body;
    const all = { ...params, ...(state.workerSid ? { workerSid: state.workerSid } : {}) };
    if (method === 'GET') url += `?${new URLSearchParams(all)}`;
    else {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(all);
    }
    const res = await fetch(url, { method, headers, body });
    if (!res.ok) {
      const answer = await res.json().catch(() => ({}));
      const err = new Error(answer.error || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return res;
  }

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const REASONS = { unavailable: 'unavailable', no_answer: 'no answer', rejected: 'declined', not_assigned: 'not reached' };

  function render(answer) {
    $('box').textContent = `box of ${answer.workerSid}`;
    const unheard = state.items.filter((v) => !v.heard).length;
    $('unheard').hidden = unheard === 0;
    $('unheard').textContent = `${unheard}${answer.unheardAtLeast ? '+' : ''} new`;
    const tbody = $('list').querySelector('tbody');
    tbody.replaceChildren();
    for (const v of state.items) {
      const tr = document.createElement('tr');
      tr.dataset.callSid = v.callSid;
      tr.className = v.heard ? 'heard' : 'unheard';
      const cells = ['', v.from || 'unknown caller', when(v.dateCreated), v.duration === null || v.duration === undefined ? '' : `${v.duration} s`, REASONS[v.reason] || v.reason || ''];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const tx = document.createElement('td');
      tx.className = 'transcription';
      tx.textContent = v.transcription || (v.transcriptionStatus === 'failed' ? '(no transcription)' : '');
      tr.append(tx);
      const actions = document.createElement('td');
      actions.className = 'actions';
      const button = (label, cls, fn) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        b.className = cls;
        b.onclick = () => fn(v).catch((err) => show(err.message, true));
        actions.append(b);
      };
      button('Play', 'play', play);
      button(v.heard ? 'Mark unheard' : 'Mark heard', 'heard', (x) => mark(x, !x.heard));
      button('Delete', 'delete', remove);
      tr.append(actions);
      tbody.append(tr);
    }
    $('list').hidden = state.items.length === 0;
    $('empty').hidden = state.items.length > 0;
    $('more').hidden = !state.next;
  }

  async function load(more) {
    const params = { action: 'list', ...(more && state.next ? { pageToken: state.next } : {}) };
    const answer = await (await call('GET', params)).json();
    state.items = more ? state.items.concat(answer.voicemails) : answer.voicemails;
    state.next = answer.nextPageToken;
    state.answer = answer;
    render(answer);
    document.body.dataset.loaded = 'true';
  }

  async function play(v) {
    const res = await call('GET', { action: 'media', callSid: v.callSid });
    const blob = await res.blob();
    if (state.playing) URL.revokeObjectURL(state.playing);
    state.playing = URL.createObjectURL(blob);
    const player = $('player');
    player.hidden = false;
    player.src = state.playing;
    player.dataset.callSid = v.callSid;
    player.dataset.bytes = String(blob.size);
    player.play().catch(() => {}); // autoplay may be refused; the controls are there
    if (!v.heard) await mark(v, true);
  }

  async function mark(v, heard) {
    const answer = await (await call('POST', { action: 'heard', callSid: v.callSid, heard: String(heard) })).json();
    Object.assign(v, answer.voicemail);
    render(state.answer);
  }

  async function remove(v) {
    if (!window.confirm(`Delete the voicemail from ${v.from || 'an unknown caller'}? The recording is deleted too.`)) return;
    await call('POST', { action: 'delete', callSid: v.callSid });
    state.items = state.items.filter((x) => x.callSid !== v.callSid);
    render(state.answer);
    show('Deleted.');
  }

  function start() {
    state.credential = window.voicemailCredential();
    $('sign-out').onclick = () => {
      sessionStorage.removeItem('voicemail.token');
      location.reload();
    };
    if (!state.credential) {
      $('sign-in').hidden = false;
      $('sign-in').onsubmit = (e) => {
        e.preventDefault();
        location.hash = `token=${encodeURIComponent($('credential').value.trim())}`;
        location.reload();
      };
      return;
    }
    $('refresh').onclick = () => load(false).catch((err) => show(err.message, true));
    $('more').onclick = () => load(true).catch((err) => show(err.message, true));
    load(false).catch((err) => show(err.status === 403 ? `Not allowed: ${err.message}` : err.message, true));
  }

  start();
})();
