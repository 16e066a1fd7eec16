// A loopback Twilio API emulator for tests and offline runs (a dev/test tool, not a product part).
//
//   const { startEmulator } = require('./emulator');
//   const emu = await startEmulator({ port: 0 });        // port 0: any free port
//   emu.origin                                           // http://127.0.0.1:<port>
//   emu.functionEnv()                                    // ACCOUNT_SID, AUTH_TOKEN, TWILIO_API_ORIGIN, SYNC_SERVICE_SID, WORKSPACE_SID,
//                                                        // SERVICE_SID, ENVIRONMENT_SID (the seeded Serverless service)
//   emu.makeToken({ identity: 'alice', roles: ['agent'] })  // a Flex token IAM will call valid
//   emu.failNext({ method: 'POST', path: /\/Calls\// }, { status: 429 })
//   emu.requests                                         // every request, in order
//   emu.state                                            // live state, per area
//   await emu.close();
//
// It answers like Twilio for what the bundle uses: same paths, form-encoded bodies, JSON with the
// real field names, real error bodies and status codes. Each API area is a module in this folder
// registering routes on a small router (see router.js and docs/emulator.md); to add one, write a
// module with `name`, `init(ctx)`, `routes(router, ctx)`, `snapshot(state)` and list it in AREAS.
const crypto = require('crypto');
const http = require('http');
const lib = require('./lib');
const { Router, productOf } = require('./router');
const openapi = require('./openapi');
// Clients made in this process name what twilio-node would drop (client-guard.js).
require('./client-guard');

const AREAS = [
  require('./iam'),
  require('./calls'),
  require('./recordings'), // <Record>: recordings, their media and callbacks
  require('./sync'),
  require('./taskrouter-history'), // before taskrouter: its /Workers/:worker would match Workers/CumulativeStatistics
  require('./taskrouter'),
  require('./taskrouter-stats'),
  require('./sync-documents'),
  require('./serverless'),
  require('./sync-live'),
  require('./contact-center'),
  require('./studio'),
  require('./agent-activity'), // the one agent model: live agents view, agent history (docs/emulator.md)
];

const DEFAULT_ACCOUNT_SID = lib.fixedSid('AC', 'emulator-account');
const DEFAULT_AUTH_TOKEN = 'emulator-auth-token';

/** Twilio's request signature (X-Twilio-Signature) for a form POST to `url`. */
function signature(authToken, url, params) {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return crypto.createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

function matches(match, info) {
  if (typeof match === 'function') return Boolean(match(info));
  if (match.method && match.method.toUpperCase() !== info.method) return false;
  if (match.product && match.product !== info.product) return false;
  if (match.path instanceof RegExp) return match.path.test(info.path);
  if (typeof match.path === 'string') return info.path.includes(match.path);
  return true;
}

// `clock` ({now(), advance(ms)}) may be injected, e.g. a simulated clock for benchmarks.
// `enforceSpec` (default true): refuse, with 400, any request Twilio's OpenAPI definitions do not
// declare (emulator/openapi.js); every refusal is also kept in `violations`.
function createEmulator({ accountSid = DEFAULT_ACCOUNT_SID, authToken = DEFAULT_AUTH_TOKEN, areas = AREAS, clock: injectedClock, enforceSpec = true } = {}) {
  const router = new Router();
  const violations = [];
  const clock = injectedClock || lib.createClock();
  const state = {};
  const requests = [];
  const faults = [];
  const ctx = {
    accountSid,
    authToken,
    clock,
    state,
    lib,
    limiter: lib.createRateLimiter(clock),
    env: {}, // variables the functions need to talk to the seeded objects (areas add to it)
    origin: null, // set when listening
    deliver: null, // set below: POSTs a webhook (status callbacks) to the functions
  };

  // One POST of a webhook; resolves with {status, body} or {error, timedOut}.
  const post = async (url, form, readTimeoutMs) => {
    // Twilio calls https://DOMAIN_NAME/...; locally DOMAIN_NAME is a loopback host served over http.
    const target = url.replace(/^https:\/\/(localhost|127\.0\.0\.1)([:/])/i, 'http://$1$2');
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Twilio-Signature': signature(authToken, url, form),
          'User-Agent': 'TwilioProxy/1.1',
        },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(readTimeoutMs),
      });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      return { status: null, error: err.message, timedOut: err.name === 'TimeoutError' };
    }
  };

  /**
   * POSTs a webhook as Twilio does, honouring the URL's connection overrides (the fragment,
   * e.g. `#rc=3&rp=5xx,ct,rt`): `rc` retries when the answer matches `rp` (4xx, 5xx, ct: could
   * not connect, rt: read timeout, all), `rt` read timeout in ms (default 15000). The fragment is
   * not sent and not signed. Resolves with the delivery: the last attempt's status and body, and
   * every attempt.
   */
  ctx.deliver = async (url, params) => {
    const [base, fragment = ''] = String(url).split('#');
    const o = Object.fromEntries(new URLSearchParams(fragment));
    const retries = Math.min(Math.max(parseInt(o.rc, 10) || 0, 0), 5);
    const policy = new Set(
      String(o.rp || '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    );
    const readTimeoutMs = Math.min(Math.max(parseInt(o.rt, 10) || 15000, 100), 15000);
    const form = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const record = { at: lib.isoDate(clock.now()), url, params: form, status: null, error: null, attempts: [] };
    (state.webhooks = state.webhooks || []).push(record);
    const retryable = (a) =>
      policy.has('all') ||
      (a.status >= 500 && policy.has('5xx')) ||
      (a.status >= 400 && a.status < 500 && policy.has('4xx')) ||
      (a.status === null && (a.timedOut ? policy.has('rt') : policy.has('ct')));
    for (let attempt = 0; ; attempt += 1) {
      const a = await post(base, form, readTimeoutMs);
      record.attempts.push(a);
      Object.assign(record, { status: a.status, body: a.body, error: a.error || null });
      if (attempt >= retries || !retryable(a)) return record;
    }
  };

  for (const area of areas) {
    state[area.name] = area.init ? area.init(ctx) : {};
    area.routes(router, ctx);
  }

  // The emulator's own endpoints (no credentials): state, request log, faults, clock.
  const snapshot = () => {
    const out = { accountSid, now: lib.isoDate(clock.now()), env: ctx.env };
    for (const area of areas) out[area.name] = area.snapshot ? area.snapshot(state[area.name], ctx) : state[area.name];
    out.webhooks = state.webhooks || [];
    out.pendingFaults = faults.map(({ match, fault, remaining }) => ({ match: String(match.path || match.method || 'any'), fault, remaining }));
    return out;
  };
  router.get('/', () => ({ body: snapshot() }), { control: true });
  router.get('/emulator/requests', () => ({ body: { requests } }), { control: true });
  router.get('/emulator/violations', () => ({ body: { violations } }), { control: true });
  router.delete('/emulator/requests', () => ((requests.length = 0), { status: 204 }), { control: true });
  router.post(
    '/emulator/faults',
    (req) => {
      const b = req.body;
      const match = { method: b.method, product: b.product, path: b.pathRegex ? new RegExp(b.pathRegex) : b.path };
      const fault = {
        status: b.status === undefined ? undefined : Number(b.status),
        code: b.code === undefined ? undefined : Number(b.code),
        message: b.message,
        timeout: b.timeout === true || b.timeout === 'true',
        applied: b.applied === true || b.applied === 'true',
        times: b.times === undefined ? 1 : Number(b.times),
      };
      failNext(match, fault);
      return { status: 201, body: { pendingFaults: faults.length } };
    },
    { control: true },
  );
  router.post('/emulator/clock', (req) => ({ body: { offsetMs: clock.advance(req.body.advanceMs), now: lib.isoDate(clock.now()) } }), {
    control: true,
  });

  /**
   * Makes the next `fault.times` (default 1) requests matching `match` fail: `{status, code?,
   * message?}` answers a Twilio error body (429 -> 20429, 503 -> 20503, others 20500 unless
   * `code`); `{timeout: true}` never answers (the client times out), the connection is dropped
   * after `holdMs` (default 30 s) or when the emulator closes. `applied: true` carries the
   * request out first and only then fails its answer (a write whose answer is lost).
   */
  function failNext(match = {}, fault = {}) {
    faults.push({ match, fault, remaining: Math.max(1, Number(fault.times) || 1) });
  }

  function takeFault(info) {
    const i = faults.findIndex((f) => matches(f.match, info));
    if (i < 0) return null;
    const f = faults[i];
    f.remaining -= 1;
    if (f.remaining <= 0) faults.splice(i, 1);
    return f.fault;
  }

  function checkAuth(headers, params) {
    const m = /^Basic\s+(.+)$/i.exec(headers.authorization || '');
    if (!m) throw lib.errors.unauthenticated();
    const [user, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
    const secret = rest.join(':');
    // The account's auth token, or the account's API key and secret (as Twilio takes either).
    const viaKey = ctx.env.API_KEY && user === ctx.env.API_KEY && secret === ctx.env.API_SECRET;
    if (!viaKey && (user !== accountSid || secret !== authToken)) throw lib.errors.unauthenticated();
    if (params.account && params.account !== accountSid) throw lib.errors.unauthenticated();
  }

  const held = new Set();

  async function handle(req, res) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url, 'http://emulator.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method.toUpperCase();
    const product = productOf(req.headers['x-forwarded-host']);
    const entry = {
      id: requests.length + 1,
      at: lib.isoDate(clock.now()),
      method,
      path,
      product,
      query: Object.fromEntries(url.searchParams),
      headers: {
        'content-type': req.headers['content-type'],
        'if-match': req.headers['if-match'],
        'x-forwarded-host': req.headers['x-forwarded-host'],
        'user-agent': req.headers['user-agent'],
        'x-twilio-dropped-params': req.headers['x-twilio-dropped-params'],
      },
      body: null,
      status: null,
    };
    const send = (status, body, headers = {}) => {
      entry.status = status;
      const text = body === undefined ? '' : JSON.stringify(body, null, path === '/' ? 2 : 0);
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(text);
    };
    try {
      entry.body = lib.parseBody(Buffer.concat(chunks), req.headers['content-type']);
      const found = router.match(method, path, product);
      const control = Boolean(found && found.route && found.route.control);
      if (!control) requests.push(entry);
      if (!control && enforceSpec && !(found === null && path.startsWith('/emulator/'))) {
        // Twilio's published API decides first (emulator/openapi.js).
        const refusal = openapi.validate({
          method,
          path,
          product,
          query: entry.query,
          body: entry.body,
          contentType: req.headers['content-type'],
          dropped: req.headers['x-twilio-dropped-params'],
        });
        if (refusal) {
          entry.violation = refusal.message;
          violations.push({ id: entry.id, at: entry.at, method, path, product, query: entry.query, body: entry.body, message: refusal.message });
          throw new lib.TwilioError(refusal.status, refusal.code, refusal.message);
        }
      }
      if (!control) {
        const fault = takeFault({ method, path, product, body: entry.body });
        if (fault) {
          entry.fault = fault;
          if (fault.applied && found && !found.allowed) {
            checkAuth(req.headers, found.params);
            await found.route.handler({ method, path, params: found.params, query: entry.query, body: entry.body, headers: req.headers, product });
          }
          if (fault.timeout) {
            entry.status = 'timeout';
            held.add(res);
            const timer = setTimeout(() => {
              held.delete(res);
              res.destroy();
            }, fault.holdMs || 30000);
            res.on('close', () => {
              clearTimeout(timer);
              held.delete(res);
            });
            return;
          }
          const status = fault.status || 500;
          const code = fault.code || { 429: 20429, 503: 20503 }[status] || 20500;
          const message = fault.message || (status === 429 ? 'Too Many Requests' : status === 503 ? 'Service Unavailable' : 'Internal Server Error');
          const retryAfter = status === 429 || status === 503 ? { 'Retry-After': '1' } : {};
          return send(status, new lib.TwilioError(status, code, message).toBody(), retryAfter);
        }
      }
      if (!found) throw lib.errors.notFound(path);
      if (found.allowed) {
        throw new lib.TwilioError(405, 20004, `Method ${method} not allowed on ${path}; allowed: ${found.allowed.join(', ')}`);
      }
      if (!control) checkAuth(req.headers, found.params);
      const raw = Buffer.concat(chunks);
      const out = (await found.route.handler({ method, path, params: found.params, query: entry.query, body: entry.body, raw, headers: req.headers, product })) || {};
      if (typeof out.stream === 'function') return out.stream(res); // a long-lived answer (Server-Sent Events)
      if (out.raw !== undefined) {
        entry.status = out.status || 200;
        res.writeHead(entry.status, out.headers || {});
        return res.end(out.raw);
      }
      return send(out.status || 200, out.body, out.headers);
    } catch (err) {
      if (err instanceof lib.TwilioError) return send(err.status, err.toBody(), path.startsWith('/emulator/') ? { 'Access-Control-Allow-Origin': '*' } : {});
      console.error('emulator: unexpected error', err);
      return send(500, new lib.TwilioError(500, 20500, `Emulator error: ${err.message}`).toBody());
    }
  }

  return {
    handle,
    router,
    state,
    requests,
    violations,
    clock,
    ctx,
    failNext,
    snapshot,
    clearFaults: () => (faults.length = 0),
    makeToken: (opts) => state.iam && require('./iam').makeToken(ctx, opts),
    // The queue-stats function reads the published dashboard's variable names for the same SIDs.
    functionEnv: () => ({
      ACCOUNT_SID: accountSid,
      AUTH_TOKEN: authToken,
      TWILIO_API_ORIGIN: ctx.origin,
      ...ctx.env,
      ...(ctx.env.WORKSPACE_SID && { TWILIO_FLEX_WORKSPACE_SID: ctx.env.WORKSPACE_SID }),
      ...(ctx.env.SYNC_SERVICE_SID && { TWILIO_FLEX_SYNC_SID: ctx.env.SYNC_SERVICE_SID }),
    }),
    _held: held,
  };
}

/** Starts the emulator on 127.0.0.1:`port` (0 = any free port). */
async function startEmulator({ port = 3001, host = '127.0.0.1', ...options } = {}) {
  const emulator = createEmulator(options);
  const server = http.createServer((req, res) => {
    emulator.handle(req, res).catch((err) => {
      console.error('emulator:', err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // twilio-node keeps its sockets alive and reuses an idle one without a time limit; Node's server
  // closes a socket idle for 5 s, so a request sent on it just then met "socket hang up" (a read
  // failed as if Twilio had not answered). Idle sockets stay open until the client or close() ends them.
  server.keepAliveTimeout = 0;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  emulator.origin = `http://${host}:${address.port}`;
  emulator.ctx.origin = emulator.origin;
  emulator.port = address.port;
  emulator.server = server;
  // If anything sent a request Twilio's definitions do not declare, closing prints the refusals
  // and sets the process's exit code to 1, even when the caller caught the 400: a test file (or a
  // script) cannot pass over one, and its other cleanup still runs. `allowViolations: true` (a
  // test of the refusals themselves) turns this off.
  emulator.violationReport = () => {
    const v = emulator.violations;
    return v.length ? `The emulator refused ${v.length} request(s) Twilio's API definitions do not declare (docs/emulator.md):\n${v.map((x) => `  ${x.message}`).join('\n')}` : null;
  };
  emulator.close = () =>
    new Promise((resolve) => {
      for (const res of emulator._held) res.destroy();
      server.close(() => {
        const report = emulator.violationReport();
        if (report && !options.allowViolations) {
          console.error(report);
          process.exitCode = 1;
        }
        resolve();
      });
      if (server.closeAllConnections) server.closeAllConnections();
    });
  return emulator;
}

/** What `npm start` prints about the emulator: where it listens and how to try the functions. */
function describeForHumans(origin, { functionsOrigin = `http://localhost:${process.env.PORT || 3000}` } = {}) {
  const json = (field) => `node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).${field}'`;
  return [
    `Twilio API emulator: ${origin}  (no ACCOUNT_SID/AUTH_TOKEN in .env, so the functions talk to it)`,
    `  Its state (Sync maps, calls, tasks) as JSON:  curl -s ${origin}/`,
    `  A Flex token for worker alice:  TOKEN=$(curl -s -X POST ${origin}/emulator/tokens -d identity=alice | ${json('token')})`,
    `                       her SID:   WORKER=$(curl -s -X POST ${origin}/emulator/tokens -d identity=alice | ${json('worker_sid')})`,
    `  A live call:  CALL=$(curl -s -X POST ${origin}/emulator/calls | ${json('sid')})`,
    `  Her task with it:  TASK=$(curl -s -X POST ${origin}/emulator/taskrouter/tasks -d workerSid=$WORKER --data-urlencode "attributes={\\"call_sid\\":\\"$CALL\\"}" | ${json('sid')})`,
    `  Park it:      curl -s ${functionsOrigin}/park-call -d Token=$TOKEN -d callSid=$CALL -d workerSid=$WORKER \\`,
    `                  -d workflowSid=WW${'0'.repeat(32)} -d taskSid=$TASK -d name=Ada -d queueName=Support --data-urlencode 'attributes={}'`,
    `  Hang it up:   curl -s -X POST ${origin}/emulator/calls/$CALL/status -d CallStatus=completed`,
    `  Schedule admin (docs/schedule-manager.md):  ADMIN=$(curl -s -X POST ${origin}/emulator/tokens -d identity=ada -d roles=admin | ${json('token')})`,
    `                 curl -s ${functionsOrigin}/admin/list -d Token=$ADMIN`,
    `  A direct call to voicemail, the caller's message, the box: docs/voicemail.md ("Try it")`,
    `  More (pickup, fault injection): docs/emulator.md`,
    `  Wallboard with a synthetic day:  npm run simulate   (prints the page's URL; docs/wallboard.md)`,
  ];
}

module.exports = { startEmulator, createEmulator, describeForHumans, signature, AREAS, DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN };
