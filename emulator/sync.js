// Twilio Sync (sync.twilio.com/v1): Services, Maps and Map Items.
//   POST   /v1/Services                                   create a service (FriendlyName, AclEnabled)
//   GET    /v1/Services                                   list
//   GET    /v1/Services/{IS}                              fetch
//   POST   /v1/Services/{IS}                              update (FriendlyName, AclEnabled)
//   POST   /v1/Services/{IS}/Maps                         create a map (UniqueName, Ttl/CollectionTtl)
//   GET    /v1/Services/{IS}/Maps[/{MP or unique name}]   list / fetch
//   POST   /v1/Services/{IS}/Maps/{map}                   update (Ttl/CollectionTtl)
//   DELETE /v1/Services/{IS}/Maps/{map}
//   POST   /v1/Services/{IS}/Maps/{map}/Items             create (Key, Data, Ttl/ItemTtl, CollectionTtl)
//   GET    /v1/Services/{IS}/Maps/{map}/Items[/{key}]     list (Order) / fetch
//   POST   /v1/Services/{IS}/Maps/{map}/Items/{key}       update (Data, Ttl/ItemTtl, CollectionTtl; If-Match)
//   DELETE /v1/Services/{IS}/Maps/{map}/Items/{key}       (If-Match)
// Limits as documented: Data at most 16 KiB of JSON (54006); a write budget per object that
// depends on the payload size (20/s up to 1 KiB, 2/s from 10 KiB; lib.syncWriteCost, an assumption
// stated in docs/emulator.md), item writes counting against their map (54009); TTLs really expire (against the
// emulator's clock, which tests can advance). Revisions are decimal strings, also sent as ETag.

const KEY_MAX = 320;
const BOARD_SERVICE_NAME = 'Flex wallboard statistics';
const flag = (v) => v === true || String(v).toLowerCase() === 'true';

module.exports = {
  name: 'sync',

  init(ctx) {
    const { lib, clock } = ctx;
    const state = { services: new Map() };
    const sid = lib.fixedSid('IS', 'emulator-sync-service');
    const now = clock.now();
    state.services.set(sid, { sid, uniqueName: 'default', friendlyName: 'Emulator default service', dateCreated: now, dateUpdated: now, maps: new Map() });
    ctx.env.SYNC_SERVICE_SID = sid;
    // The wallboard's statistics service (docs/wallboard.md): ACL on, as `npm run deploy` makes it.
    // Flex's own service above keeps ACL off, as Flex has it.
    const board = lib.fixedSid('IS', 'emulator-wallboard-service');
    state.services.set(board, { sid: board, uniqueName: null, friendlyName: BOARD_SERVICE_NAME, aclEnabled: true, dateCreated: now, dateUpdated: now, maps: new Map() });
    ctx.env.WALLBOARD_SYNC_SID = board;
    return state;
  },

  routes(router, ctx) {
    const { lib, clock, limiter } = ctx;
    const { TwilioError, errors } = lib;
    const host = 'https://sync.twilio.com/v1';
    const opts = { product: 'sync' };

    const sweep = (service, now) => {
      for (const [sid, map] of service.maps) {
        if (lib.expired(map, now)) {
          service.maps.delete(sid);
          continue;
        }
        for (const [key, item] of map.items) if (lib.expired(item, now)) map.items.delete(key);
      }
    };

    const findService = (id, path) => {
      const services = ctx.state.sync.services;
      const service = services.get(id) || [...services.values()].find((s) => s.uniqueName === id);
      if (!service) throw errors.notFound(path);
      sweep(service, clock.now());
      return service;
    };
    const findMap = (service, id, path) => {
      const map = service.maps.get(id) || [...service.maps.values()].find((m) => m.uniqueName === id);
      if (!map) throw errors.notFound(path);
      return map;
    };
    const findItem = (map, key, path) => {
      const item = map.items.get(key);
      if (!item) throw errors.notFound(path);
      return item;
    };

    const serviceView = (s) => ({
      sid: s.sid,
      unique_name: s.uniqueName,
      account_sid: ctx.accountSid,
      friendly_name: s.friendlyName,
      date_created: lib.isoDate(s.dateCreated),
      date_updated: lib.isoDate(s.dateUpdated),
      url: `${host}/Services/${s.sid}`,
      webhook_url: null,
      webhooks_from_rest_enabled: false,
      reachability_webhooks_enabled: false,
      acl_enabled: Boolean(s.aclEnabled),
      reachability_debouncing_enabled: false,
      reachability_debouncing_window: 5000,
      links: { maps: `${host}/Services/${s.sid}/Maps`, documents: `${host}/Services/${s.sid}/Documents`, lists: `${host}/Services/${s.sid}/Lists` },
    });
    const mapView = (s, m) => ({
      sid: m.sid,
      unique_name: m.uniqueName,
      account_sid: ctx.accountSid,
      service_sid: s.sid,
      url: `${host}/Services/${s.sid}/Maps/${m.sid}`,
      links: { items: `${host}/Services/${s.sid}/Maps/${m.sid}/Items`, permissions: `${host}/Services/${s.sid}/Maps/${m.sid}/Permissions` },
      revision: String(m.revision),
      date_expires: lib.isoDate(m.dateExpires),
      date_created: lib.isoDate(m.dateCreated),
      date_updated: lib.isoDate(m.dateUpdated),
      created_by: 'system',
    });
    const itemView = (s, m, i) => ({
      key: i.key,
      account_sid: ctx.accountSid,
      service_sid: s.sid,
      map_sid: m.sid,
      url: `${host}/Services/${s.sid}/Maps/${m.sid}/Items/${encodeURIComponent(i.key)}`,
      revision: String(i.revision),
      data: i.data,
      date_expires: lib.isoDate(i.dateExpires),
      date_created: lib.isoDate(i.dateCreated),
      date_updated: lib.isoDate(i.dateUpdated),
      created_by: 'system',
    });
    const withEtag = (body) => ({ body, headers: { ETag: body.revision } });

    const checkIfMatch = (req, item) => {
      const expected = req.headers['if-match'];
      if (expected === undefined || expected === '*') return;
      if (String(expected).replace(/^"|"$/g, '') !== String(item.revision)) {
        throw new TwilioError(412, 54205, 'The revision of the Map Item does not match the expected revision');
      }
    };

    const touchMap = (map, form, now) => {
      map.dateExpires = lib.expiryFrom(form, ['CollectionTtl'], now, map.dateExpires);
      map.revision += 1;
      map.dateUpdated = now;
    };

    // Services
    router.post(
      '/v1/Services',
      (req) => {
        const now = clock.now();
        const s = { sid: lib.newSid('IS'), uniqueName: null, friendlyName: req.body.FriendlyName || null, aclEnabled: flag(req.body.AclEnabled), dateCreated: now, dateUpdated: now, maps: new Map() };
        ctx.state.sync.services.set(s.sid, s);
        return { status: 201, body: serviceView(s) };
      },
      opts,
    );
    router.get('/v1/Services', (req) => ({ body: lib.page([...ctx.state.sync.services.values()].map(serviceView), { key: 'services', baseUrl: `${host}/Services`, query: req.query }) }), opts);
    router.get('/v1/Services/:service', (req) => ({ body: serviceView(findService(req.params.service, req.path)) }), opts);
    router.post(
      '/v1/Services/:service',
      (req) => {
        const s = findService(req.params.service, req.path);
        if (req.body.FriendlyName !== undefined) s.friendlyName = String(req.body.FriendlyName);
        if (req.body.AclEnabled !== undefined) s.aclEnabled = flag(req.body.AclEnabled);
        s.dateUpdated = clock.now();
        return { body: serviceView(s) };
      },
      opts,
    );

    // Maps
    router.post(
      '/v1/Services/:service/Maps',
      (req) => {
        const s = findService(req.params.service, req.path);
        const now = clock.now();
        const uniqueName = req.body.UniqueName;
        if (uniqueName !== undefined && [...s.maps.values()].some((m) => m.uniqueName === uniqueName)) {
          throw new TwilioError(409, 54301, `Unique name already exists: ${uniqueName}`);
        }
        const m = { sid: lib.newSid('MP'), uniqueName: uniqueName || null, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null, items: new Map() };
        m.dateExpires = lib.expiryFrom(req.body, ['Ttl', 'CollectionTtl'], now);
        limiter.hit(`map:${m.sid}`, `Map ${m.uniqueName || m.sid}`);
        s.maps.set(m.sid, m);
        return { status: 201, body: mapView(s, m) };
      },
      opts,
    );
    router.get(
      '/v1/Services/:service/Maps',
      (req) => {
        const s = findService(req.params.service, req.path);
        const maps = [...s.maps.values()].map((m) => mapView(s, m));
        return { body: lib.page(maps, { key: 'maps', baseUrl: `${host}/Services/${s.sid}/Maps`, query: req.query }) };
      },
      opts,
    );
    router.get(
      '/v1/Services/:service/Maps/:map',
      (req) => {
        const s = findService(req.params.service, req.path);
        return { body: mapView(s, findMap(s, req.params.map, req.path)) };
      },
      opts,
    );
    router.post(
      '/v1/Services/:service/Maps/:map',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        const now = clock.now();
        limiter.hit(`map:${m.sid}`, `Map ${m.uniqueName || m.sid}`);
        m.dateExpires = lib.expiryFrom(req.body, ['Ttl', 'CollectionTtl'], now, m.dateExpires);
        m.revision += 1;
        m.dateUpdated = now;
        return { body: mapView(s, m) };
      },
      opts,
    );
    router.delete(
      '/v1/Services/:service/Maps/:map',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        limiter.hit(`map:${m.sid}`, `Map ${m.uniqueName || m.sid}`);
        s.maps.delete(m.sid);
        return { status: 204 };
      },
      opts,
    );

    // Map Items
    router.post(
      '/v1/Services/:service/Maps/:map/Items',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        const key = req.body.Key;
        if (key === undefined || key === '') throw errors.missingParam('Key');
        if (String(key).length > KEY_MAX) throw errors.invalidParam('Key', `longer than ${KEY_MAX} characters`);
        if (req.body.Data === undefined) throw errors.missingParam('Data');
        const data = lib.parseSyncData(req.body.Data);
        if (m.items.has(key)) throw new TwilioError(409, 54208, `Item already exists: a Map Item with key ${key} already exists in Map ${m.uniqueName || m.sid}`);
        limiter.hit(`map:${m.sid}`, `Map ${m.uniqueName || m.sid}`, lib.syncWriteCost(lib.syncDataBytes(data)));
        const now = clock.now();
        const item = { key: String(key), data, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null };
        item.dateExpires = lib.expiryFrom(req.body, ['Ttl', 'ItemTtl'], now);
        touchMap(m, req.body, now);
        m.items.set(item.key, item);
        return { status: 201, ...withEtag(itemView(s, m, item)) };
      },
      opts,
    );
    router.get(
      '/v1/Services/:service/Maps/:map/Items',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        const items = [...m.items.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        if (String(req.query.Order || 'asc').toLowerCase() === 'desc') items.reverse();
        const from = req.query.From;
        const exclusive = String(req.query.Bounds || 'inclusive').toLowerCase() === 'exclusive';
        const desc = String(req.query.Order).toLowerCase() === 'desc';
        const bounded = from === undefined ? items : items.filter((i) => (i.key === from ? !exclusive : desc ? i.key < from : i.key > from));
        return {
          body: lib.page(bounded, { key: 'items', baseUrl: `${host}/Services/${s.sid}/Maps/${m.sid}/Items`, query: req.query, view: (i) => itemView(s, m, i) }),
        };
      },
      opts,
    );
    router.get(
      '/v1/Services/:service/Maps/:map/Items/:key',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        return withEtag(itemView(s, m, findItem(m, req.params.key, req.path)));
      },
      opts,
    );
    router.post(
      '/v1/Services/:service/Maps/:map/Items/:key',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        const item = findItem(m, req.params.key, req.path);
        checkIfMatch(req, item);
        const data = lib.parseSyncData(req.body.Data);
        const now = clock.now();
        const dateExpires = lib.expiryFrom(req.body, ['Ttl', 'ItemTtl'], now, item.dateExpires);
        limiter.hit(`map:${m.sid}`, `Map ${m.uniqueName || m.sid}`, lib.syncWriteCost(lib.syncDataBytes(data === undefined ? item.data : data)));
        if (data !== undefined) item.data = data;
        item.dateExpires = dateExpires;
        item.revision += 1;
        item.dateUpdated = now;
        touchMap(m, req.body, now);
        return withEtag(itemView(s, m, item));
      },
      opts,
    );
    router.delete(
      '/v1/Services/:service/Maps/:map/Items/:key',
      (req) => {
        const s = findService(req.params.service, req.path);
        const m = findMap(s, req.params.map, req.path);
        const item = findItem(m, req.params.key, req.path);
        checkIfMatch(req, item);
        limiter.hit(`map:${m.sid}`, `Map ${m.uniqueName || m.sid}`);
        m.items.delete(item.key);
        touchMap(m, {}, clock.now());
        return { status: 204 };
      },
      opts,
    );
  },

  snapshot: (state, ctx) => {
    const now = ctx.clock.now();
    const iso = ctx.lib.isoDate;
    return {
      services: Object.fromEntries(
        [...state.services.values()].map((s) => [
          s.sid,
          {
            uniqueName: s.uniqueName,
            maps: Object.fromEntries(
              [...s.maps.values()]
                .filter((m) => !ctx.lib.expired(m, now))
                .map((m) => [
                  m.uniqueName || m.sid,
                  {
                    sid: m.sid,
                    dateExpires: iso(m.dateExpires),
                    items: Object.fromEntries(
                      [...m.items.values()].filter((i) => !ctx.lib.expired(i, now)).map((i) => [i.key, { revision: String(i.revision), dateExpires: iso(i.dateExpires), data: i.data }]),
                    ),
                  },
                ]),
            ),
          },
        ]),
      ),
    };
  },
};
