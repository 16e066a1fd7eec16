// The Twilio client the executor (common/effects) uses, its retries, and the settings it reads
// (requireEnv: one name per setting, values::env's rules).
//
//   const tw = require(Runtime.getFunctions()['common/client'].path);
//   const client = tw.twilioClient(context);
//   const call = await tw.withRetry(context, () => client.calls(sid).update({...}));
//   const sid = tw.requireEnv(context, 'SYNC_SERVICE_SID');     // throws HttpError 500 naming it
//
// Every request has a timeout, in production too: at most 5 s and never past the invocation's
// deadline (common/deadline), so a slow Twilio answer ends in a JSON error, not a runtime kill.
//
// TWILIO_API_ORIGIN (e.g. http://127.0.0.1:3001, the emulator) sends every request to that origin
// instead of https://<product>.twilio.com: path, method, headers and body are unchanged, plus one
// header, X-Forwarded-Host: <the Twilio host it was meant for>, because several products share
// paths (Sync and Serverless both have /v1/Services). It is never set in a deployment. The
// emulator's guard (emulator/client-guard.js) is loaded only where it runs.
const twilio = require('twilio');
const { HttpError } = require(Runtime.getFunctions()['common/http'].path);
const { requestTimeoutMs, remainingMs, REQUEST_TIMEOUT_MS } = require(Runtime.getFunctions()['common/deadline'].path);

// One name per setting, the older names accepted as documented aliases: the table and the rule
// (a conflict is refused) are values::env's, through the auth module's envNames/envSetting.
// Loaded on first use, through Runtime, or beside this file where a test loads it without it.
let envModule = null;
const envRules = () => {
  const wasmFile = typeof Runtime !== 'undefined' && Runtime.getFunctions()['common/wasm'] ? Runtime.getFunctions()['common/wasm'].path : require('path').join(__dirname, 'wasm.private.js');
  return (envModule = envModule || require(wasmFile).wasmModule('auth'));
};

/** A setting values::env refused (its error names the variable), as our 500. */
const misconfigured = (err) => new HttpError(500, `Server misconfigured: ${err.message} (see .env.example).`, { code: err.code, variable: err.parameter });

/**
 * The value of setting `name` under its canonical name or an alias (README, "Settings and their
 * aliases"), or a 500 HttpError naming it: unset, or set under two names with different values.
 */
function requireEnv(context, name) {
  const value = envValue(context, name);
  if (value === null) throw new HttpError(500, `Server misconfigured: the environment variable ${name} is not set (see .env.example).`, { variable: name });
  return value;
}

/** Setting `name` as requireEnv reads it, or null when it is unset under every name. */
function envValue(context, name) {
  const found = envRules().call((w) => {
    const given = Object.fromEntries(w.envNames(name).map((n) => [n, context[n] === undefined || context[n] === null ? null : String(context[n])]));
    try {
      return w.envSetting(name, given);
    } catch (err) {
      throw misconfigured(err);
    }
  });
  return found ? found.value : null;
}

/** TWILIO_API_ORIGIN without a trailing slash, or null (production). */
function apiOrigin(context) {
  const origin = context.TWILIO_API_ORIGIN && String(context.TWILIO_API_ORIGIN).trim();
  return origin ? origin.replace(/\/+$/, '') : null;
}

/**
 * The URL a request meant for `twilioUrl` goes to, and the headers to add: unchanged in
 * production; with an origin, that origin plus X-Forwarded-Host naming the Twilio host.
 */
function route(origin, twilioUrl) {
  if (!origin) return { uri: twilioUrl, headers: {} };
  const target = new URL(twilioUrl);
  return { uri: `${origin}${target.pathname}${target.search}`, headers: { 'X-Forwarded-Host': target.host } };
}

/** A twilio httpClient: every request gets the invocation's timeout, and goes to `origin` if set. */
class TimedClient {
  constructor(origin) {
    this.origin = origin;
    this.inner = new twilio.RequestClient({ timeout: REQUEST_TIMEOUT_MS });
  }

  request(opts) {
    const { uri, headers } = route(this.origin, opts.uri);
    // Past the deadline the request is refused as a rejected promise, never thrown: twilio-node's
    // list() starts its first page inside a promise whose rejection it drops (an unhandled
    // rejection kills the process), while it does pass a rejected page on to the caller.
    let timeout;
    try {
      timeout = requestTimeoutMs();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.inner.request({ ...opts, uri, headers: { ...(opts.headers || {}), ...headers }, timeout });
  }

  get lastResponse() {
    return this.inner.lastResponse;
  }

  get lastRequest() {
    return this.inner.lastRequest;
  }
}

const clients = new Map();

const setting = (context, name) => (context[name] === undefined || context[name] === null ? '' : String(context[name]).trim());

/**
 * TWILIO_REGION and TWILIO_EDGE as the twilio client takes them (`{region, edge}`, each only when
 * set): every REST request goes to <product>[.<edge>].<region>.twilio.com, IAM too, and Sync
 * tokens name the region. A value that is not a Region (us1, ie1, au1...) or an Edge (dublin,
 * sydney...) is a 500 naming the variable.
 */
function regionOptions(context) {
  const out = {};
  const region = setting(context, 'TWILIO_REGION');
  const edge = setting(context, 'TWILIO_EDGE');
  if (region) {
    if (!/^[a-z]{2}[0-9]$/.test(region)) {
      throw new HttpError(500, `Server misconfigured: TWILIO_REGION must be a Twilio Region such as us1, ie1 or au1 (got ${JSON.stringify(region)}; see .env.example).`, { variable: 'TWILIO_REGION' });
    }
    out.region = region;
  }
  if (edge) {
    if (!/^[a-z]+(-[a-z]+)*$/.test(edge)) {
      throw new HttpError(500, `Server misconfigured: TWILIO_EDGE must be a Twilio Edge location such as dublin or sydney (got ${JSON.stringify(edge)}; see .env.example).`, {
        variable: 'TWILIO_EDGE',
      });
    }
    out.edge = edge;
  }
  return out;
}

/** The host of Twilio `product` for this context's region and edge (iam -> iam.ie1.twilio.com). */
function productHost(context, product) {
  const { region, edge } = regionOptions(context);
  if (!region && !edge) return `${product}.twilio.com`;
  return [product, edge, region || 'us1', 'twilio.com'].filter(Boolean).join('.');
}

/** The REST client for this account (ACCOUNT_SID/AUTH_TOKEN, as the runtime's own client uses). */
function twilioClient(context) {
  const origin = apiOrigin(context);
  const accountSid = requireEnv(context, 'ACCOUNT_SID');
  const authToken = requireEnv(context, 'AUTH_TOKEN');
  const regional = regionOptions(context);
  const key = `${origin} ${accountSid} ${authToken} ${regional.region || ''} ${regional.edge || ''}`;
  if (!clients.has(key)) {
    const client = twilio(accountSid, authToken, { httpClient: new TimedClient(origin), ...regional });
    // Against the emulator, its guard (emulator/client-guard.js, never loaded in a deployment)
    // names the parameters twilio-node would drop silently, so that the emulator refuses them.
    const guard = origin && globalThis.twilioEmulatorGuard;
    clients.set(key, guard ? guard(client) : client);
  }
  return clients.get(key);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const RETRY_SETTINGS = ['TWILIO_SERVICE_RETRY_LIMIT', 'TWILIO_SERVICE_MIN_BACKOFF', 'TWILIO_SERVICE_MAX_BACKOFF'];

const retryOf = new WeakMap(); // context -> its Retry: read once per invocation, not per request

/** values::env's Retry: `{limit, minMs, maxMs}`, or a 500 HttpError naming a bad setting. */
function retrySettings(context) {
  if (!retryOf.has(context)) retryOf.set(context, readRetry(context));
  return retryOf.get(context);
}

function readRetry(context) {
  return envRules().call((w) => {
    try {
      return w.retrySettings(Object.fromEntries(RETRY_SETTINGS.map((n) => [n, context[n] === undefined || context[n] === null ? null : String(context[n])])));
    } catch (err) {
      throw misconfigured(err);
    }
  });
}

/** 429 and 503 mean Twilio did not carry the request out, so repeating it is safe. */
const retryable = (err) => err && (err.status === 429 || err.status === 503);

/**
 * Runs `fn`, retrying when Twilio answers 429 or 503, up to TWILIO_SERVICE_RETRY_LIMIT times
 * (default 5), waiting a random time between TWILIO_SERVICE_MIN_BACKOFF and an exponentially
 * growing bound capped at TWILIO_SERVICE_MAX_BACKOFF (values::env's Retry), and never past the
 * invocation's deadline. Timeouts and other errors are not retried: the request may have been
 * carried out.
 */
async function withRetry(context, fn) {
  const { limit, minMs: min, maxMs: max } = retrySettings(context);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      const ceiling = Math.min(max, min * 2 ** attempt);
      const delay = min + Math.random() * (ceiling - min);
      if (!retryable(err) || attempt >= limit || remainingMs() - delay < 1000) throw err;
      await sleep(delay);
    }
  }
}

module.exports = { apiOrigin, route, twilioClient, regionOptions, productHost, retrySettings, withRetry, requireEnv, envValue, TimedClient };
