// The emulator's stand-in for the twilio-sync browser SDK (window.EmulatorSync.Client), served by
// the emulator at /emulator/sync/client.js. Same interface as the part of `Twilio.Sync.Client` a
// read-only page uses, so the page's code is the same against the emulator and against Twilio:
//
//   const client = new EmulatorSync.Client(token, { origin });   // origin: the emulator's
//   client.on('connectionStateChanged', (state) => ...);          // connecting|connected|disconnected|denied
//   client.on('tokenAboutToExpire' | 'tokenExpired' | 'connectionError', ...);
//   await client.updateToken(newToken);
//   const map = await client.map({ id: 'queueStats', mode: 'open_existing' });
//   (await map.getItems({ pageSize: 100 })).items  -> [{ key, data, revision }], hasNextPage, nextPage()
//   map.on('itemAdded' | 'itemUpdated', ({ item, isLocal }) => ...); map.on('itemRemoved', ({ key }) => ...)
//   const doc = await client.document({ id, mode: 'open_existing' }); doc.data; doc.on('updated', ({ data }) => ...)
//   map.close(); doc.close(); client.shutdown();
//   writes (checked against the service's ACL: a refusal rejects with {status: 403, code: 54007}):
//   client.map({ id, mode: 'open_or_create' | 'create_new' })   (the SDK's default mode: open_or_create)
//   await map.set(key, data); await map.update(key, partial); await map.remove(key); await map.removeMap();
//   await doc.set(data); await doc.update(partial); await doc.removeDocument();
//
// Like the SDK, it reconnects by itself after a dropped connection and re-reads the objects it has
// open, reporting what changed meanwhile as ordinary events; after `tokenExpired` it waits for
// `updateToken`. It fires `tokenAboutToExpire` three minutes before expiry (a quarter of the
// token's lifetime for tokens shorter than twelve minutes).
(function () {
  'use strict';

  class Emitter {
    constructor() {
      this._handlers = {};
    }
    on(event, fn) {
      (this._handlers[event] = this._handlers[event] || []).push(fn);
      return this;
    }
    once(event, fn) {
      const wrap = (...args) => {
        this.removeListener(event, wrap);
        fn(...args);
      };
      return this.on(event, wrap);
    }
    removeListener(event, fn) {
      this._handlers[event] = (this._handlers[event] || []).filter((f) => f !== fn);
      return this;
    }
    off(event, fn) {
      return this.removeListener(event, fn);
    }
    emit(event, ...args) {
      for (const fn of (this._handlers[event] || []).slice()) {
        try {
          fn(...args);
        } catch (err) {
          console.error(err);
        }
      }
    }
  }

  const claimsOf = (token) => {
    try {
      return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch {
      return {};
    }
  };

  class SyncMapItem {
    constructor(raw) {
      this.key = raw.key;
      this.data = raw.data;
      this.revision = raw.revision;
      this.dateUpdated = raw.dateUpdated ? new Date(raw.dateUpdated) : null;
    }
  }

  class SyncMap extends Emitter {
    constructor(client, snapshot) {
      super();
      this._client = client;
      this.type = 'map';
      this.sid = snapshot.sid;
      this.uniqueName = snapshot.uniqueName;
      this._items = new Map(snapshot.items.map((raw) => [raw.key, new SyncMapItem(raw)]));
    }
    async getItems({ pageSize = 50 } = {}) {
      const all = [...this._items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const page = (from) => ({
        items: all.slice(from, from + pageSize),
        hasNextPage: from + pageSize < all.length,
        hasPrevPage: from > 0,
        nextPage: async () => page(from + pageSize),
      });
      return page(0);
    }
    async get(key) {
      const item = this._items.get(key);
      if (!item) throw Object.assign(new Error(`Item ${key} not found`), { status: 404, code: 54201 });
      return item;
    }
    _resync(snapshot) {
      const seen = new Set();
      for (const raw of snapshot.items) {
        seen.add(raw.key);
        const before = this._items.get(raw.key);
        if (before && before.revision === raw.revision) continue;
        this._apply({ event: before ? 'itemUpdated' : 'itemAdded', item: raw });
      }
      for (const key of [...this._items.keys()]) if (!seen.has(key)) this._apply({ event: 'itemRemoved', key });
    }
    _apply(change) {
      if (change.event === 'removed') return this.emit('removed', { isLocal: false });
      if (change.event === 'itemRemoved') {
        const previous = this._items.get(change.key);
        this._items.delete(change.key);
        return this.emit('itemRemoved', { key: change.key, isLocal: false, previousItemData: previous ? previous.data : undefined });
      }
      const previous = this._items.get(change.item.key);
      const item = new SyncMapItem(change.item);
      this._items.set(item.key, item);
      this.emit(change.event, { item, isLocal: false, previousItemData: previous ? previous.data : undefined });
    }
    _write(body) {
      return this._client._call('write', { type: 'map', id: this.uniqueName || this.sid, ...body });
    }
    async set(key, data) {
      const item = new SyncMapItem(await this._write({ op: 'setItem', key, data }));
      this._items.set(item.key, item); // as the SDK does, the local copy has the write at once
      return item;
    }
    async update(key, partial) {
      const before = this._items.get(key);
      return this.set(key, { ...(before ? before.data : {}), ...partial });
    }
    async remove(key) {
      await this._write({ op: 'removeItem', key });
    }
    async removeMap() {
      await this._write({ op: 'remove' });
    }
    close() {
      this._client._close(this);
    }
  }

  class SyncDocument extends Emitter {
    constructor(client, snapshot) {
      super();
      this._client = client;
      this.type = 'document';
      this.sid = snapshot.sid;
      this.uniqueName = snapshot.uniqueName;
      this.data = snapshot.data;
      this.revision = snapshot.revision;
    }
    _resync(snapshot) {
      if (snapshot.revision !== this.revision) this._apply({ event: 'updated', data: snapshot.data, revision: snapshot.revision });
    }
    _apply(change) {
      if (change.event === 'removed') return this.emit('removed', { isLocal: false });
      const previousData = this.data;
      this.data = change.data;
      this.revision = change.revision;
      this.emit('updated', { data: this.data, isLocal: false, previousData });
    }
    _write(body) {
      return this._client._call('write', { type: 'document', id: this.uniqueName || this.sid, ...body });
    }
    async set(data) {
      const written = await this._write({ op: 'setDocument', data });
      this.data = written.data;
      this.revision = written.revision;
      return written.data;
    }
    async update(partial) {
      return this.set({ ...(this.data || {}), ...partial });
    }
    async removeDocument() {
      await this._write({ op: 'remove' });
    }
    close() {
      this._client._close(this);
    }
  }

  class Client extends Emitter {
    constructor(token, options = {}) {
      super();
      this._origin = String(options.origin || '').replace(/\/+$/, '');
      this._token = token;
      this._open = new Map(); // "type:id" -> SyncMap | SyncDocument
      this._state = 'unknown';
      this._shutdown = false;
      this._connectionId = null;
      this._attempt = 0;
      this._ready = null;
      this._scheduleExpiry();
      this._connect();
    }

    get connectionState() {
      return this._state;
    }

    _setState(state) {
      if (state === this._state) return;
      this._state = state;
      this.emit('connectionStateChanged', state);
    }

    _scheduleExpiry() {
      clearTimeout(this._aboutTimer);
      clearTimeout(this._expiredTimer);
      const exp = (claimsOf(this._token).exp || 0) * 1000;
      const iat = (claimsOf(this._token).iat || 0) * 1000;
      const lead = Math.min(180000, Math.max(0, (exp - iat) / 4));
      this._aboutTimer = setTimeout(() => this.emit('tokenAboutToExpire'), Math.max(0, exp - lead - Date.now()));
      this._expiredTimer = setTimeout(() => this._expired(), Math.max(0, exp - Date.now()));
    }

    _expired() {
      if (this._tokenExpiredSent || this._shutdown) return;
      this._tokenExpiredSent = true;
      this._abortStream();
      this._setState('disconnected');
      this.emit('tokenExpired');
    }

    async _call(path, body) {
      const res = await fetch(`${this._origin}/emulator/sync/${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this._token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ connectionId: this._connectionId, ...body }),
      });
      const answer = await res.json().catch(() => ({}));
      if (!res.ok) throw Object.assign(new Error(answer.message || `HTTP ${res.status}`), { status: res.status, code: answer.code });
      return answer;
    }

    _abortStream() {
      if (this._abort) this._abort.abort();
      this._abort = null;
      this._connectionId = null;
    }

    _connect() {
      if (this._shutdown || this._tokenExpiredSent) return;
      this._setState('connecting');
      this._abortStream();
      const abort = new AbortController();
      this._abort = abort;
      if (!this._readyPending) {
        this._readyPending = true;
        this._ready = new Promise((resolve, reject) => {
          this._resolveReady = resolve;
          this._rejectReady = reject;
        });
        this._ready.catch(() => {});
      }
      (async () => {
        const res = await fetch(`${this._origin}/emulator/sync/connect`, { headers: { Authorization: `Bearer ${this._token}` }, signal: abort.signal });
        if (res.status === 401 || res.status === 403) {
          const answer = await res.json().catch(() => ({}));
          if (answer.code === 20104) return this._expired();
          this._setState('denied');
          this._readyPending = false;
          this._rejectReady(Object.assign(new Error(answer.message || 'Access denied'), { status: res.status, code: answer.code }));
          this.emit('connectionError', { terminal: true, message: answer.message || `HTTP ${res.status}`, httpStatusCode: res.status, errorCode: answer.code });
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = (/^event: (.*)$/m.exec(block) || [])[1];
            const data = (/^data: (.*)$/m.exec(block) || [])[1];
            if (event) await this._onEvent(event, data ? JSON.parse(data) : {});
          }
        }
        throw new Error('the stream ended');
      })().catch((err) => {
        if (abort.signal.aborted || this._shutdown || this._tokenExpiredSent) return;
        this.emit('connectionError', { terminal: false, message: err.message });
        this._retry();
      });
    }

    _retry() {
      this._connectionId = null;
      this._setState('connecting');
      this._attempt += 1;
      const delay = Math.min(5000, 250 * 2 ** Math.min(this._attempt, 5)) * (0.75 + Math.random() / 2);
      clearTimeout(this._retryTimer);
      this._retryTimer = setTimeout(() => this._connect(), delay);
    }

    async _onEvent(event, data) {
      if (event === 'connected') {
        this._connectionId = data.connectionId;
        // Re-open what was open (after a reconnect) and report what changed meanwhile.
        for (const [key, obj] of this._open) {
          try {
            obj._resync(await this._call('open', { type: obj.type, id: key.slice(key.indexOf(':') + 1) }));
          } catch (err) {
            if (err.code === 54100) {
              this._open.delete(key);
              obj._apply({ event: 'removed' });
            } else throw err;
          }
        }
        this._attempt = 0;
        this._setState('connected');
        this._readyPending = false;
        this._resolveReady();
      } else if (event === 'change') {
        const obj = this._open.get(`${data.object.type}:${data.object.id}`);
        if (!obj) return;
        if (data.event === 'removed') this._open.delete(`${data.object.type}:${data.object.id}`);
        obj._apply(data);
      } else if (event === 'expired') {
        this._expired();
      }
    }

    async updateToken(token) {
      this._token = token;
      this._scheduleExpiry();
      if (this._tokenExpiredSent) {
        this._tokenExpiredSent = false;
        this._connect();
      } else if (this._connectionId) {
        await this._call('token', {});
      }
      return this;
    }

    async _openObject(type, arg) {
      const id = typeof arg === 'string' ? arg : arg && arg.id;
      const mode = (arg && typeof arg === 'object' && arg.mode) || 'open_or_create';
      const key = `${type}:${id}`;
      if (this._open.has(key)) return this._open.get(key);
      for (;;) {
        await this._ready;
        try {
          if (mode === 'create_new') await this._call('write', { op: 'create', type, id, data: arg.data });
          const snapshot = await this._call('open', { type, id }).catch(async (err) => {
            if (mode !== 'open_or_create' || err.code !== 54100) throw err;
            await this._call('write', { op: 'create', type, id, data: arg && arg.data }).catch((e) => {
              if (e.code !== 54301) throw e; // created meanwhile
            });
            return this._call('open', { type, id });
          });
          const obj = type === 'map' ? new SyncMap(this, snapshot) : new SyncDocument(this, snapshot);
          this._open.set(key, obj);
          return obj;
        } catch (err) {
          if (err.code === 54100 || err.status !== 404) throw err; // 404 without 54100: the connection dropped; wait for the next
        }
      }
    }

    map(arg) {
      return this._openObject('map', arg);
    }

    document(arg) {
      return this._openObject('document', arg);
    }

    _close(obj) {
      for (const [key, value] of this._open) {
        if (value !== obj) continue;
        this._open.delete(key);
        if (this._connectionId) this._call('close', { type: obj.type, id: key.slice(key.indexOf(':') + 1) }).catch(() => {});
      }
    }

    shutdown() {
      this._shutdown = true;
      clearTimeout(this._aboutTimer);
      clearTimeout(this._expiredTimer);
      clearTimeout(this._retryTimer);
      this._abortStream();
      this._setState('disconnected');
    }
  }

  window.EmulatorSync = { Client };
})();
