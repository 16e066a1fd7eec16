// Sync's live updates, for browsers (the emulator's stand-in for the twilio-sync SDK's websocket).
// A page loads the stand-in client from the emulator (GET /emulator/sync/client.js, the SDK's
// interface: see sync-live-client.js) and talks to these endpoints with a real Sync access token
// (a JWT signed with the API_KEY/API_SECRET the emulator gives the functions):
//
//   GET  /emulator/sync/client.js       the stand-in client (window.EmulatorSync.Client)
//   GET  /emulator/sync/connect         Server-Sent Events: `connected`, then `change` / `expired`
//   POST /emulator/sync/open            {connectionId, type: 'map'|'document', id} -> snapshot; subscribes
//   POST /emulator/sync/close           {connectionId, type, id}
//   POST /emulator/sync/token           {connectionId} with the new token: extends the connection
//   POST /emulator/sync/drop            {refuseMs}: closes every stream (a dropped connection) and
//                                       refuses new ones for refuseMs (tests)
//   POST /emulator/sync/write           {connectionId, op, type, id, key?, data?}: a token holder's
//                                       write, as the SDK makes them: op `create` (a map or document),
//                                       `setItem` / `removeItem` (map items), `setDocument`, `remove`
//                                       (the object)
//   PUT-like POST /emulator/sync/acl    {enabled, service?}: a service enforces Sync permissions
//   POST|GET|DELETE /v1/Services/{IS}/Maps/{map}/Permissions/{identity}, .../Documents/{doc}/Permissions/{identity}
//                                       Sync permissions (Read, Write, Manage), as the REST API has them
//
// Sync's ACL for token holders, as Twilio documents it (docs/emulator.md): with the service's
// `acl_enabled` off, every token for the service reads and writes every object in it. With it on,
// an identity reads an object (open, items, live changes) only with `read`, changes its data or its
// items only with `write`, and deletes it only with `manage`, each granted per object and identity
// by the Permissions resources; a permission names an existing object, so a token holder creates
// nothing. Requests with the account's credentials (REST) are never restricted.
//
// Every call carries the token as `Authorization: Bearer <jwt>`; it is verified (HS256 with the
// API secret, `iss` = API_KEY, `sub` = the account, `exp` against the real clock, a `data_sync`
// grant naming the service). A stream is closed with an `expired` event when its token expires.
// Changes are found by comparing revisions every 100 ms: within 2 s of a write, as Sync promises.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const TICK_MS = 100;
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
};

function verifyToken(ctx, header) {
  const { TwilioError } = ctx.lib;
  const m = /^Bearer\s+(\S+)$/i.exec(String(header || ''));
  if (!m) throw new TwilioError(401, 20101, 'Invalid Access Token: none was sent');
  const [h, p, s] = m[1].split('.');
  const expected = crypto.createHmac('sha256', ctx.env.API_SECRET).update(`${h}.${p}`).digest('base64url');
  if (!s || s.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(s), Buffer.from(expected))) {
    throw new TwilioError(401, 20101, 'Invalid Access Token: bad signature');
  }
  let claims;
  try {
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    throw new TwilioError(401, 20101, 'Invalid Access Token: unreadable payload');
  }
  if (claims.iss !== ctx.env.API_KEY || claims.sub !== ctx.accountSid) throw new TwilioError(401, 20101, 'Invalid Access Token: wrong issuer or account');
  if (!(claims.exp * 1000 > Date.now())) throw new TwilioError(401, 20104, 'Access Token expired or expiration date invalid');
  const grant = claims.grants && claims.grants.data_sync;
  if (!grant || !grant.service_sid) throw new TwilioError(403, 20151, 'Access Token has no Sync grant');
  return { identity: claims.grants.identity, serviceSid: grant.service_sid, expMs: claims.exp * 1000 };
}

module.exports = {
  name: 'syncLive',

  init(ctx) {
    ctx.env.API_KEY = ctx.lib.fixedSid('SK', 'emulator-api-key');
    ctx.env.API_SECRET = crypto.createHash('sha256').update('emulator-api-secret').digest('hex');
    const state = { connections: new Map(), refuseUntil: 0, permissions: new Map(), timer: null };
    return state;
  },

  routes(router, ctx) {
    const { lib } = ctx;
    const { TwilioError, errors } = lib;
    const live = () => ctx.state.syncLive;
    const control = { control: true };
    const service = (sid) => {
      const services = ctx.state.sync.services;
      const s = services.get(sid) || [...services.values()].find((x) => x.uniqueName === sid);
      if (!s) throw new TwilioError(404, 20404, `Sync service ${sid} not found`);
      return s;
    };
    const findObject = (s, type, id) => {
      const now = ctx.clock.now();
      if (type === 'map') {
        const m = s.maps.get(id) || [...s.maps.values()].find((x) => x.uniqueName === id);
        return m && !lib.expired(m, now) ? m : null;
      }
      const docs = s.documents || new Map();
      const d = docs.get(id) || [...docs.values()].find((x) => x.uniqueName === id);
      return d && !lib.expired(d, now) ? d : null;
    };
    // `right`: 'read', 'write' or 'manage'; `obj` null: creating an object.
    const permitted = (s, obj, identity, right = 'read') => {
      if (!s.aclEnabled) return true;
      if (!obj) return false;
      const p = live().permissions.get(`${obj.sid}|${identity}`);
      return Boolean(p && p[right]);
    };
    const refuse = (identity, right, type, id) => new TwilioError(403, 54007, `Identity ${identity} has no ${right} permission on ${type} ${id}`);
    const view = (type, obj) => {
      const now = ctx.clock.now();
      if (type === 'map') {
        const items = [...obj.items.values()].filter((i) => !lib.expired(i, now)).map((i) => ({ key: i.key, data: i.data, revision: String(i.revision), dateUpdated: lib.isoDate(i.dateUpdated) }));
        return { type, sid: obj.sid, uniqueName: obj.uniqueName, items };
      }
      return { type, sid: obj.sid, uniqueName: obj.uniqueName, data: obj.data, revision: String(obj.revision) };
    };
    const connectionOf = (req, claims) => {
      const conn = live().connections.get(String(req.body.connectionId || ''));
      if (!conn || conn.closed) throw new TwilioError(404, 20404, 'No such live connection (it was closed); reconnect');
      if (conn.identity !== claims.identity) throw new TwilioError(403, 20403, "The token is not the connection's");
      return conn;
    };
    const send = (conn, event, data) => {
      if (!conn.closed) conn.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const end = (conn) => {
      if (conn.closed) return;
      conn.closed = true;
      live().connections.delete(conn.id);
      conn.res.end();
    };

    // One watcher for every connection: token expiry, then the changes of each subscribed object.
    const tick = () => {
      const now = Date.now();
      for (const conn of live().connections.values()) {
        if (conn.expMs <= now) {
          send(conn, 'expired', { code: 20104, message: 'Access Token expired' });
          end(conn);
          continue;
        }
        for (const sub of conn.subscriptions.values()) diff(conn, sub);
      }
    };
    const diff = (conn, sub) => {
      let s;
      try {
        s = service(conn.serviceSid);
      } catch {
        return;
      }
      const obj = findObject(s, sub.type, sub.id);
      if (!obj || obj.sid !== sub.sid) {
        send(conn, 'change', { object: { type: sub.type, id: sub.id }, event: 'removed' });
        conn.subscriptions.delete(`${sub.type}:${sub.id}`);
        return;
      }
      if (sub.type === 'document') {
        if (String(obj.revision) !== sub.revision) {
          sub.revision = String(obj.revision);
          send(conn, 'change', { object: { type: sub.type, id: sub.id }, event: 'updated', data: obj.data, revision: sub.revision });
        }
        return;
      }
      const now = ctx.clock.now();
      const seen = new Set();
      for (const item of obj.items.values()) {
        if (lib.expired(item, now)) continue;
        seen.add(item.key);
        const revision = `${item.dateCreated}:${item.revision}`;
        const before = sub.items.get(item.key);
        if (before === revision) continue;
        sub.items.set(item.key, revision);
        send(conn, 'change', {
          object: { type: 'map', id: sub.id },
          event: before === undefined ? 'itemAdded' : 'itemUpdated',
          item: { key: item.key, data: item.data, revision: String(item.revision), dateUpdated: lib.isoDate(item.dateUpdated) },
        });
      }
      for (const key of [...sub.items.keys()]) {
        if (seen.has(key)) continue;
        sub.items.delete(key);
        send(conn, 'change', { object: { type: 'map', id: sub.id }, event: 'itemRemoved', key });
      }
    };
    const ensureTimer = () => {
      if (live().timer) return;
      live().timer = setInterval(tick, TICK_MS);
      live().timer.unref();
    };

    const clientFile = path.join(__dirname, 'sync-live-client.js');
    router.get('/emulator/sync/client.js', () => ({ raw: fs.readFileSync(clientFile, 'utf8'), headers: { 'Content-Type': 'application/javascript; charset=utf-8', ...CORS } }), control);
    for (const p of ['connect', 'open', 'close', 'token', 'write']) router.add('OPTIONS', `/emulator/sync/${p}`, () => ({ status: 204, headers: CORS }), control);

    router.get(
      '/emulator/sync/connect',
      (req) => {
        if (Date.now() < live().refuseUntil) throw new TwilioError(503, 20503, 'Sync is unreachable (the emulator is refusing connections)');
        const claims = verifyToken(ctx, req.headers.authorization);
        service(claims.serviceSid);
        return {
          headers: CORS,
          stream(res) {
            const conn = { id: crypto.randomBytes(9).toString('hex'), res, identity: claims.identity, serviceSid: claims.serviceSid, expMs: claims.expMs, subscriptions: new Map(), closed: false };
            live().connections.set(conn.id, conn);
            res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', ...CORS });
            send(conn, 'connected', { connectionId: conn.id, identity: conn.identity });
            const keepAlive = setInterval(() => !conn.closed && res.write(': keep-alive\n\n'), 15000);
            res.on('close', () => {
              clearInterval(keepAlive);
              conn.closed = true;
              live().connections.delete(conn.id);
            });
            ensureTimer();
          },
        };
      },
      control,
    );
    router.post(
      '/emulator/sync/open',
      (req) => {
        const claims = verifyToken(ctx, req.headers.authorization);
        const conn = connectionOf(req, claims);
        const type = req.body.type === 'document' ? 'document' : 'map';
        const id = String(req.body.id || '');
        const s = service(conn.serviceSid);
        const obj = findObject(s, type, id);
        if (!obj) throw new TwilioError(404, 54100, `${type === 'map' ? 'Map' : 'Document'} ${id} not found`);
        if (!permitted(s, obj, conn.identity, 'read')) throw refuse(conn.identity, 'read', type, id);
        const snapshot = view(type, obj);
        const sub = { type, id, sid: obj.sid, revision: String(obj.revision), items: new Map() };
        if (type === 'map') for (const item of obj.items.values()) sub.items.set(item.key, `${item.dateCreated}:${item.revision}`);
        conn.subscriptions.set(`${type}:${id}`, sub);
        return { body: snapshot, headers: CORS };
      },
      control,
    );
    // A token holder's writes, checked against the service's ACL, with the REST API's limits
    // (16 KiB of data, the per-object write budget; items count against their map).
    const limit = (type, obj, data) => ctx.limiter.hit(`${type}:${obj.sid}`, `${type === 'map' ? 'Map' : 'Document'} ${obj.uniqueName || obj.sid}`, lib.syncWriteCost(lib.syncDataBytes(data)));
    const dataOf = (raw) => lib.parseSyncData(JSON.stringify(raw === undefined ? {} : raw));
    const write = (s, identity, { op, type, id, key, data }) => {
      const now = ctx.clock.now();
      const obj = findObject(s, type, id);
      if (op === 'create') {
        if (obj) throw new TwilioError(409, 54301, `Unique name already exists: ${id}`);
        if (!permitted(s, null, identity, 'write')) throw refuse(identity, 'create', type, id);
        const base = { uniqueName: id, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null };
        if (type === 'map') {
          const m = { sid: lib.newSid('MP'), ...base, items: new Map() };
          limit('map', m);
          s.maps.set(m.sid, m);
          return view('map', m);
        }
        const d = { sid: lib.newSid('ET'), ...base, data: dataOf(data) };
        limit('document', d, d.data);
        if (!s.documents) s.documents = new Map();
        s.documents.set(d.sid, d);
        return view('document', d);
      }
      if (!obj) throw new TwilioError(404, 54100, `${type === 'map' ? 'Map' : 'Document'} ${id} not found`);
      const right = op === 'remove' ? 'manage' : 'write';
      if (!permitted(s, obj, identity, right)) throw refuse(identity, right, type, id);
      if (op === 'remove') {
        limit(type, obj);
        (type === 'map' ? s.maps : s.documents).delete(obj.sid);
        return {};
      }
      if (op === 'setDocument' && type === 'document') {
        const next = dataOf(data);
        limit('document', obj, next);
        Object.assign(obj, { data: next, revision: obj.revision + 1, dateUpdated: now });
        return view('document', obj);
      }
      if ((op === 'setItem' || op === 'removeItem') && type === 'map') {
        const k = String(key === undefined ? '' : key);
        if (!k) throw lib.errors.missingParam('Key');
        const item = obj.items.get(k);
        if (op === 'removeItem') {
          if (!item || lib.expired(item, now)) throw new TwilioError(404, 54201, `Item ${k} not found`);
          limit('map', obj);
          obj.items.delete(k);
        } else {
          const next = dataOf(data);
          limit('map', obj, next);
          if (item && !lib.expired(item, now)) Object.assign(item, { data: next, revision: item.revision + 1, dateUpdated: now });
          else obj.items.set(k, { key: k, data: next, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null });
        }
        Object.assign(obj, { revision: obj.revision + 1, dateUpdated: now });
        const written = obj.items.get(k);
        return written ? { key: k, data: written.data, revision: String(written.revision) } : {};
      }
      throw lib.errors.invalidParam('op', `${op} on a ${type}`);
    };
    router.post(
      '/emulator/sync/write',
      (req) => {
        const conn = connectionOf(req, verifyToken(ctx, req.headers.authorization));
        const type = req.body.type === 'document' ? 'document' : 'map';
        const body = write(service(conn.serviceSid), conn.identity, { op: String(req.body.op || ''), type, id: String(req.body.id || ''), key: req.body.key, data: req.body.data });
        return { body, headers: CORS };
      },
      control,
    );
    router.post(
      '/emulator/sync/close',
      (req) => {
        const conn = connectionOf(req, verifyToken(ctx, req.headers.authorization));
        conn.subscriptions.delete(`${req.body.type === 'document' ? 'document' : 'map'}:${req.body.id}`);
        return { status: 200, body: {}, headers: CORS };
      },
      control,
    );
    router.post(
      '/emulator/sync/token',
      (req) => {
        const claims = verifyToken(ctx, req.headers.authorization);
        const conn = connectionOf(req, claims);
        conn.expMs = claims.expMs;
        return { body: { expiresAt: new Date(claims.expMs).toISOString() }, headers: CORS };
      },
      control,
    );
    router.post(
      '/emulator/sync/drop',
      (req) => {
        const conns = [...live().connections.values()];
        for (const conn of conns) {
          conn.closed = true;
          live().connections.delete(conn.id);
          conn.res.destroy();
        }
        live().refuseUntil = Date.now() + (Number(req.body.refuseMs) || 0);
        return { body: { dropped: conns.length } };
      },
      control,
    );
    router.post(
      '/emulator/sync/acl',
      (req) => {
        const s = service(req.body.service || ctx.env.SYNC_SERVICE_SID);
        s.aclEnabled = req.body.enabled === true || req.body.enabled === 'true';
        return { body: { service: s.sid, aclEnabled: s.aclEnabled } };
      },
      control,
    );

    // Sync permissions, as the REST API has them (only enforced on the live connections here).
    const permissionRoutes = (type, plural) => {
      const base = `/v1/Services/:service/${plural}/:object/Permissions/:identity`;
      const find = (req) => {
        const s = service(req.params.service);
        const obj = findObject(s, type, req.params.object);
        if (!obj) throw errors.notFound(req.path);
        return { s, obj };
      };
      const flag = (v) => v === true || String(v).toLowerCase() === 'true';
      const out = (s, obj, identity, p) => ({
        account_sid: ctx.accountSid,
        service_sid: s.sid,
        [`${type}_sid`]: obj.sid,
        identity,
        read: p.read,
        write: p.write,
        manage: p.manage,
        url: `https://sync.twilio.com/v1/Services/${s.sid}/${plural}/${obj.sid}/Permissions/${identity}`,
      });
      router.post(
        base,
        (req) => {
          const { s, obj } = find(req);
          for (const f of ['Read', 'Write', 'Manage']) if (req.body[f] === undefined) throw errors.missingParam(f);
          const p = { read: flag(req.body.Read), write: flag(req.body.Write), manage: flag(req.body.Manage) };
          live().permissions.set(`${obj.sid}|${req.params.identity}`, p);
          return { body: out(s, obj, req.params.identity, p) };
        },
        { product: 'sync' },
      );
      router.get(
        base,
        (req) => {
          const { s, obj } = find(req);
          const p = live().permissions.get(`${obj.sid}|${req.params.identity}`);
          if (!p) throw errors.notFound(req.path);
          return { body: out(s, obj, req.params.identity, p) };
        },
        { product: 'sync' },
      );
      router.delete(
        base,
        (req) => {
          const { obj } = find(req);
          live().permissions.delete(`${obj.sid}|${req.params.identity}`);
          return { status: 204 };
        },
        { product: 'sync' },
      );
    };
    permissionRoutes('map', 'Maps');
    permissionRoutes('document', 'Documents');
  },

  snapshot: (state) => ({
    connections: [...state.connections.values()].map((c) => ({ id: c.id, identity: c.identity, expiresAt: new Date(c.expMs).toISOString(), subscriptions: [...c.subscriptions.keys()] })),
    permissions: Object.fromEntries(state.permissions),
  }),
};

module.exports.verifyToken = verifyToken;
