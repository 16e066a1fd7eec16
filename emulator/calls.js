// Programmable Voice calls (api.twilio.com/2010-04-01):
//   POST /2010-04-01/Accounts/{AC}/Calls.json          create (To, From, Url or Twiml, StatusCallback)
//   GET  /2010-04-01/Accounts/{AC}/Calls/{CA}.json     fetch
//   POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json     update (Twiml, Url + Method, Status, StatusCallback...)
//     a new Url is fetched at once, like Twilio does (signed POST with CallSid...), into `urlTwiml`
// No audio happens: a call is a record whose `twiml` is what it would be executing. The emulator's
// own endpoints make a live call (POST /emulator/calls) and end one (POST
// /emulator/calls/{CA}/status with CallStatus=completed|busy|failed|no-answer|canceled), which
// sends the call's status callback to the functions like Twilio would (signed, form-encoded,
// redelivered as the URL's connection overrides say, e.g. `#rc=3&rp=5xx,ct,rt`).

const LIVE = new Set(['queued', 'ringing', 'in-progress']);
const TERMINAL = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);
const TWIML_MAX = 4000; // Twilio's documented limit for the Twiml parameter

module.exports = {
  name: 'calls',

  init: () => ({ calls: new Map() }),

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const calls = () => ctx.state.calls.calls;
    const base = `/2010-04-01/Accounts/${ctx.accountSid}`;

    const view = (c) => ({
      sid: c.sid,
      account_sid: ctx.accountSid,
      parent_call_sid: null,
      to: c.to,
      to_formatted: c.to,
      from: c.from,
      from_formatted: c.from,
      phone_number_sid: null,
      status: c.status,
      start_time: lib.rfc2822(c.startTime),
      end_time: lib.rfc2822(c.endTime),
      duration: c.endTime ? String(Math.round((c.endTime - c.startTime) / 1000)) : null,
      price: null,
      price_unit: 'USD',
      direction: c.direction,
      answered_by: null,
      api_version: '2010-04-01',
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: '0',
      trunk_sid: null,
      annotation: null,
      date_created: lib.rfc2822(c.dateCreated),
      date_updated: lib.rfc2822(c.dateUpdated),
      uri: `${base}/Calls/${c.sid}.json`,
      subresource_uris: {
        notifications: `${base}/Calls/${c.sid}/Notifications.json`,
        recordings: `${base}/Calls/${c.sid}/Recordings.json`,
      },
    });

    const find = (sid, path) => {
      const call = calls().get(sid);
      if (!call) throw lib.errors.notFound(path);
      return call;
    };

    const checkTwiml = (twiml) => {
      if (twiml === undefined) return;
      if (String(twiml).length > TWIML_MAX) {
        throw new lib.TwilioError(400, 21220, `Twiml is ${String(twiml).length} characters; at most ${TWIML_MAX} are allowed`);
      }
    };

    const create = (b) => {
      if (!b.To) throw lib.errors.missingParam('To');
      if (!b.From) throw lib.errors.missingParam('From');
      checkTwiml(b.Twiml);
      const now = clock.now();
      const call = {
        sid: lib.newSid('CA'),
        to: String(b.To),
        from: String(b.From),
        direction: b.direction || 'outbound-api',
        status: 'in-progress',
        twiml: b.Twiml || null,
        url: b.Url || null,
        statusCallback: b.StatusCallback || null,
        statusCallbackMethod: b.StatusCallbackMethod || 'POST',
        sequence: 0,
        startTime: now,
        endTime: null,
        dateCreated: now,
        dateUpdated: now,
        history: [],
      };
      calls().set(call.sid, call);
      return call;
    };

    router.post(
      '/2010-04-01/Accounts/:account/Calls.json',
      (req) => {
        if (!req.body.Url && !req.body.Twiml) throw lib.errors.missingParam('Url');
        return { status: 201, body: view(create(req.body)) };
      },
      { product: 'api' },
    );

    router.get('/2010-04-01/Accounts/:account/Calls/:call.json', (req) => ({ body: view(find(req.params.call, req.path)) }), { product: 'api' });

    router.post(
      '/2010-04-01/Accounts/:account/Calls/:call.json',
      (req) => {
        const call = find(req.params.call, req.path);
        const b = req.body;
        if (!LIVE.has(call.status)) {
          throw new lib.TwilioError(400, 21220, 'Call is not in-progress. Cannot redirect.');
        }
        if (b.Status !== undefined && !['completed', 'canceled'].includes(b.Status)) {
          throw lib.errors.invalidParam('Status', 'must be completed or canceled');
        }
        if (b.StatusCallback !== undefined && !/^https?:\/\//.test(b.StatusCallback)) {
          throw new lib.TwilioError(400, 21609, `Invalid StatusCallback: ${b.StatusCallback}`);
        }
        checkTwiml(b.Twiml);
        const now = clock.now();
        if (b.Twiml !== undefined) {
          call.twiml = b.Twiml;
          call.url = null;
        }
        if (b.Url !== undefined) {
          call.url = b.Url;
          call.twiml = null;
        }
        if (b.Url !== undefined) fetchTwiml(call, b.Url, b.Method);
        if (b.StatusCallback !== undefined) call.statusCallback = b.StatusCallback;
        if (b.StatusCallbackMethod !== undefined) call.statusCallbackMethod = b.StatusCallbackMethod;
        call.history.push({ at: lib.isoDate(now), twiml: b.Twiml, url: b.Url, status: b.Status });
        call.dateUpdated = now;
        if (b.Status) finish(call, b.Status, now);
        return { body: view(call) };
      },
      { product: 'api' },
    );

    // Twilio fetches a new Url right after the update (the call then executes what it answers):
    // POST (or `Method`) with the call's parameters, signed. The answer lands in `call.urlTwiml`
    // (null until fetched; `call.urlFetch` holds the HTTP status or error).
    function fetchTwiml(call, url, method) {
      call.urlTwiml = null;
      call.urlFetch = { url, method: String(method || 'POST').toUpperCase(), status: 'pending' };
      const params = { AccountSid: ctx.accountSid, CallSid: call.sid, CallStatus: call.status, From: call.from, To: call.to, Direction: call.direction, ApiVersion: '2010-04-01' };
      setImmediate(async () => {
        const delivery = await ctx.deliver(url, params);
        call.urlFetch = { ...call.urlFetch, status: delivery.status, error: delivery.error };
        if (delivery.status === 200) call.urlTwiml = delivery.body;
      });
    }

    function finish(call, status, now) {
      call.status = status;
      call.endTime = now;
      call.dateUpdated = now;
    }

    function callbackParams(call, status) {
      call.sequence += 1;
      return {
        AccountSid: ctx.accountSid,
        ApiVersion: '2010-04-01',
        CallSid: call.sid,
        CallStatus: status,
        Called: call.to,
        Caller: call.from,
        Direction: call.direction,
        From: call.from,
        To: call.to,
        CallDuration: String(Math.round(((call.endTime || clock.now()) - call.startTime) / 1000)),
        SequenceNumber: String(call.sequence - 1),
        Timestamp: new Date(clock.now()).toUTCString().replace('GMT', '+0000'),
        CallbackSource: 'call-progress-events',
      };
    }

    // Emulator control: a live inbound call to play with (From/To optional).
    router.post('/emulator/calls', (req) => ({ status: 201, body: view(create({ To: '+15005550006', From: '+15005550001', direction: 'inbound', ...req.body })) }), { control: true });

    // Emulator control: the call reaches `CallStatus` and its status callback is sent (`repeat`
    // times, to reproduce Twilio's retries and duplicates). Answers the call and the deliveries.
    router.post(
      '/emulator/calls/:call/status',
      async (req) => {
        const call = find(req.params.call, req.path);
        const status = String(req.body.CallStatus || 'completed');
        if (!TERMINAL.has(status) && !LIVE.has(status)) throw lib.errors.invalidParam('CallStatus', status);
        if (TERMINAL.has(status)) finish(call, status, clock.now());
        else call.status = status;
        const deliveries = [];
        const repeat = Math.min(Math.max(parseInt(req.body.repeat, 10) || 1, 1), 10);
        if (call.statusCallback) {
          const params = callbackParams(call, status);
          for (let i = 0; i < repeat; i += 1) deliveries.push(await ctx.deliver(call.statusCallback, params));
        }
        return { body: { call: view(call), deliveries } };
      },
      { control: true },
    );
  },

  snapshot: (state) => ({
    calls: Object.fromEntries(
      [...state.calls.values()].map((c) => [
        c.sid,
        { status: c.status, from: c.from, to: c.to, twiml: c.twiml, url: c.url, urlTwiml: c.urlTwiml || null, statusCallback: c.statusCallback, history: c.history },
      ]),
    ),
  }),
};
