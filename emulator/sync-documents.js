// Twilio Sync Documents (sync.twilio.com/v1), beside the maps of sync.js:
//   POST   /v1/Services/{IS}/Documents              create (UniqueName, Data, Ttl)
//   GET    /v1/Services/{IS}/Documents              list
//   GET    /v1/Services/{IS}/Documents/{ET or unique name}   fetch
//   POST   /v1/Services/{IS}/Documents/{doc}        update (Data, Ttl; If-Match)
//   DELETE /v1/Services/{IS}/Documents/{doc}        (If-Match)
// Same limits as maps: Data at most 16 KiB of JSON (54006), at most 20 writes per second per
// document (54009, the shared limiter), a duplicate unique name is 54301, a revision mismatch 54103.
// Documents live on the service objects of sync.js (`service.documents`), so `GET /` shows them.

module.exports = {
  name: 'syncDocuments',

  init() {
    return {};
  },

  routes(router, ctx) {
    const { lib, clock, limiter } = ctx;
    const { TwilioError, errors } = lib;
    const host = 'https://sync.twilio.com/v1';
    const opts = { product: 'sync' };

    const findService = (id, path) => {
      const services = ctx.state.sync.services;
      const service = services.get(id) || [...services.values()].find((s) => s.uniqueName === id);
      if (!service) throw errors.notFound(path);
      if (!service.documents) service.documents = new Map();
      const now = clock.now();
      for (const [sid, doc] of service.documents) if (lib.expired(doc, now)) service.documents.delete(sid);
      return service;
    };
    const findDocument = (service, id, path) => {
      const doc = service.documents.get(id) || [...service.documents.values()].find((d) => d.uniqueName === id);
      if (!doc) throw errors.notFound(path);
      return doc;
    };
    const view = (s, d) => ({
      sid: d.sid,
      unique_name: d.uniqueName,
      account_sid: ctx.accountSid,
      service_sid: s.sid,
      url: `${host}/Services/${s.sid}/Documents/${d.sid}`,
      links: { permissions: `${host}/Services/${s.sid}/Documents/${d.sid}/Permissions` },
      revision: String(d.revision),
      data: d.data,
      date_expires: lib.isoDate(d.dateExpires),
      date_created: lib.isoDate(d.dateCreated),
      date_updated: lib.isoDate(d.dateUpdated),
      created_by: 'system',
    });
    const checkIfMatch = (req, doc) => {
      const expected = req.headers['if-match'];
      if (expected === undefined || expected === '*') return;
      if (String(expected).replace(/^"|"$/g, '') !== String(doc.revision)) {
        throw new TwilioError(412, 54103, 'The revision of the Document does not match the expected revision');
      }
    };
    const hit = (d, data) => limiter.hit(`document:${d.sid}`, `Document ${d.uniqueName || d.sid}`, lib.syncWriteCost(lib.syncDataBytes(data)));

    router.post(
      '/v1/Services/:service/Documents',
      (req) => {
        const s = findService(req.params.service, req.path);
        const now = clock.now();
        const uniqueName = req.body.UniqueName === undefined ? null : String(req.body.UniqueName);
        if (uniqueName && [...s.documents.values()].some((d) => d.uniqueName === uniqueName)) {
          throw new TwilioError(409, 54301, `Unique name already exists: ${uniqueName}`);
        }
        const d = {
          sid: lib.newSid('ET'),
          uniqueName,
          data: lib.parseSyncData(req.body.Data) || {},
          revision: 0,
          dateCreated: now,
          dateUpdated: now,
          dateExpires: lib.expiryFrom(req.body, ['Ttl'], now),
        };
        hit(d, d.data);
        s.documents.set(d.sid, d);
        return { status: 201, body: view(s, d), headers: { ETag: '0' } };
      },
      opts,
    );
    router.get(
      '/v1/Services/:service/Documents',
      (req) => {
        const s = findService(req.params.service, req.path);
        return {
          body: lib.page(
            [...s.documents.values()].map((d) => view(s, d)),
            { key: 'documents', baseUrl: `${host}/Services/${s.sid}/Documents`, query: req.query },
          ),
        };
      },
      opts,
    );
    router.get(
      '/v1/Services/:service/Documents/:document',
      (req) => {
        const s = findService(req.params.service, req.path);
        const d = findDocument(s, req.params.document, req.path);
        return { body: view(s, d), headers: { ETag: String(d.revision) } };
      },
      opts,
    );
    router.post(
      '/v1/Services/:service/Documents/:document',
      (req) => {
        const s = findService(req.params.service, req.path);
        const d = findDocument(s, req.params.document, req.path);
        checkIfMatch(req, d);
        const data = lib.parseSyncData(req.body.Data);
        hit(d, data === undefined ? d.data : data);
        const now = clock.now();
        if (data !== undefined) d.data = data;
        d.dateExpires = lib.expiryFrom(req.body, ['Ttl'], now, d.dateExpires);
        d.revision += 1;
        d.dateUpdated = now;
        return { body: view(s, d), headers: { ETag: String(d.revision) } };
      },
      opts,
    );
    router.delete(
      '/v1/Services/:service/Documents/:document',
      (req) => {
        const s = findService(req.params.service, req.path);
        const d = findDocument(s, req.params.document, req.path);
        checkIfMatch(req, d);
        hit(d);
        s.documents.delete(d.sid);
        return { status: 204 };
      },
      opts,
    );
  },

  snapshot(_state, ctx) {
    const out = {};
    for (const s of ctx.state.sync.services.values()) {
      if (!s.documents || s.documents.size === 0) continue;
      out[s.sid] = [...s.documents.values()].map((d) => ({ sid: d.sid, uniqueName: d.uniqueName, revision: String(d.revision), data: d.data }));
    }
    return out;
  },
};
