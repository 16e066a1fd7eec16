// The one way functions talk to Twilio: REST client, Flex token validation, retries, env checks,
// and the Sync item chores every parking function needs.
//
//   const tw = require(Runtime.getFunctions()['common/twilio'].path);
//   const client = tw.twilioClient(context);
//   await tw.validateFlexToken(context, event.Token);           // throws HttpError 403
//   const call = await tw.withRetry(context, () => client.calls(sid).update({...}));
//   const sid = tw.requireEnv(context, 'SYNC_SERVICE_SID');     // throws HttpError 500 naming it
//
// TWILIO_API_ORIGIN (e.g. http://127.0.0.1:3001, the emulator) sends every request to that origin
// instead of https://<product>.twilio.com: path, method, headers and body are unchanged, plus one
// header, X-Forwarded-Host: <the Twilio host it was meant for>, because several products share
// paths (Sync and Serverless both have /v1/Services). It is never set in a deployment, where the
// runtime's own client (context.getTwilioClient()) is used.
//
// Token validation: twilio-flex-token-validator always calls https://iam[.<region>].twilio.com:443
// and cannot be pointed elsewhere, so with TWILIO_API_ORIGIN the same request (POST
// /v1/Accounts/{AC}/Tokens/validate, JSON {token}, Basic auth) is made here; without it the library
// is used. Both answer the same way: an invalid token is a 403 with IAM's message.
const twilio = require('twilio');
const { HttpError } = require(Runtime.getFunctions()['common/http'].path);

const REQUEST_TIMEOUT_MS = 5000; // a Function has 10 s in all
const RETRY_BUDGET_MS = 8000; // no retry starts after this much time in one withRetry

/** The value of environment variable `name`, or a 500 HttpError naming it. */
function requireEnv(context, name) {
  const value = context[name];
  if (value === undefined || value === null || String(value).trim() === '') {
    throw new HttpError(500, `Server misconfigured: the environment variable ${name} is not set (see .env.example).`, { variable: name });
  }
  return String(value).trim();
}

function apiOrigin(context) {
  const origin = context.TWILIO_API_ORIGIN && String(context.TWILIO_API_ORIGIN).trim();
  return origin ? origin.replace(/\/+$/, '') : null;
}

/** A twilio httpClient that sends every request to `origin`, everything else unchanged. */
class OriginRewritingClient {
  constructor(origin) {
    this.origin = origin;
    this.inner = new twilio.RequestClient({ timeout: REQUEST_TIMEOUT_MS });
  }

  request(opts) {
    const target = new URL(opts.uri);
    const headers = { ...(opts.headers || {}), 'X-Forwarded-Host': target.host };
    return this.inner.request({ ...opts, headers, uri: `${this.origin}${target.pathname}${target.search}` });
  }

  get lastResponse() {
    return this.inner.lastResponse;
  }

  get lastRequest() {
    return this.inner.lastRequest;
  }
}

const clients = new Map();

/** The REST client: the runtime's in production, one aimed at TWILIO_API_ORIGIN otherwise. */
function twilioClient(context) {
  const origin = apiOrigin(context);
  if (!origin) return context.getTwilioClient();
  const accountSid = requireEnv(context, 'ACCOUNT_SID');
  const authToken = requireEnv(context, 'AUTH_TOKEN');
  const key = `${origin} ${accountSid} ${authToken}`;
  if (!clients.has(key)) clients.set(key, twilio(accountSid, authToken, { httpClient: new OriginRewritingClient(origin) }));
  return clients.get(key);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retrySettings(context) {
  const num = (name, fallback) => {
    const v = Number(context[name]);
    return context[name] !== undefined && String(context[name]).trim() !== '' && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  const min = num('TWILIO_SERVICE_MIN_BACKOFF', 100);
  return { limit: Math.floor(num('TWILIO_SERVICE_RETRY_LIMIT', 5)), min, max: Math.max(min, num('TWILIO_SERVICE_MAX_BACKOFF', 300)) };
}

const retryable = (err) => err && (err.status === 429 || err.status === 503);

/**
 * Runs `fn`, retrying when Twilio answers 429 or 503 (the request was not carried out), up to
 * TWILIO_SERVICE_RETRY_LIMIT times (default 5), waiting a random time between
 * TWILIO_SERVICE_MIN_BACKOFF and an exponentially growing bound capped at
 * TWILIO_SERVICE_MAX_BACKOFF (defaults 100 and 300 ms). Timeouts and other errors are not retried:
 * the request may have been carried out.
 */
async function withRetry(context, fn) {
  const { limit, min, max } = retrySettings(context);
  const started = Date.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      const ceiling = Math.min(max, min * 2 ** attempt);
      const delay = min + Math.random() * (ceiling - min);
      if (!retryable(err) || attempt >= limit || Date.now() - started + delay > RETRY_BUDGET_MS) throw err;
      await sleep(delay);
    }
  }
}

/** Resolves with IAM's answer for a valid Flex token; otherwise throws a 403 HttpError. */
async function validateFlexToken(context, token) {
  if (token === undefined || token === null || String(token).trim() === '') {
    throw new HttpError(403, 'Unauthorized: Token was not provided (send the Flex user token as the Token parameter)');
  }
  const accountSid = requireEnv(context, 'ACCOUNT_SID');
  const origin = apiOrigin(context);
  if (!origin) {
    if (!context.AUTH_TOKEN && !(context.API_KEY && context.API_SECRET)) requireEnv(context, 'AUTH_TOKEN');
    const { validator } = require('twilio-flex-token-validator');
    const realm = context.TWILIO_REGION ? String(context.TWILIO_REGION).split('-')[0] : '';
    const apiCredentials = context.AUTH_TOKEN ? undefined : { Sid: context.API_KEY, Secret: context.API_SECRET };
    try {
      return await validator(String(token), accountSid, context.AUTH_TOKEN, realm, apiCredentials);
    } catch (reason) {
      throw new HttpError(403, `Unauthorized: ${reason && reason.message ? reason.message : reason}`);
    }
  }
  const authToken = requireEnv(context, 'AUTH_TOKEN');
  const body = JSON.stringify({ token: String(token) });
  const res = await withRetry(context, async () => {
    let r;
    try {
      r = await fetch(`${origin}/v1/Accounts/${accountSid}/Tokens/validate`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
          'Cache-Control': 'no-cache',
          'Content-Type': 'application/json',
          'X-Forwarded-Host': 'iam.twilio.com',
        },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new HttpError(502, `Could not reach the token validation service: ${err.message}`);
    }
    if (r.status === 429 || r.status === 503) throw Object.assign(new Error(`IAM answered ${r.status}`), { status: r.status });
    return r;
  });
  let result;
  try {
    result = await res.json();
  } catch (err) {
    throw new HttpError(403, `Unauthorized: ${err.message}`);
  }
  if (!result || !result.valid) throw new HttpError(403, `Unauthorized: ${(result && result.message) || 'invalid token'}`);
  return result;
}

// --- Sync map items -------------------------------------------------------------------------

const isCode = (err, status, code) => err && err.status === status && (code === undefined || err.code === code);

function syncService(context, client) {
  return client.sync.v1.services(requireEnv(context, 'SYNC_SERVICE_SID'));
}

/** The item `{data, revision}` or null when the map or the item does not exist. */
async function fetchItem(context, client, { map, key }) {
  try {
    const item = await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).fetch());
    return { data: item.data, revision: item.revision };
  } catch (err) {
    if (isCode(err, 404)) return null;
    throw err;
  }
}

/** Creates the item, or updates it if the key exists; creates the map if it is missing. */
async function upsertItem(context, client, { map, key, data, ttl }) {
  const svc = () => syncService(context, client);
  const create = () => withRetry(context, () => svc().syncMaps(map).syncMapItems.create({ key, data, ttl }));
  const update = () => withRetry(context, () => svc().syncMaps(map).syncMapItems(key).update({ data, ttl }));
  try {
    return await create();
  } catch (err) {
    if (isCode(err, 409, 54208)) return update();
    if (!isCode(err, 404)) throw err;
  }
  try {
    await withRetry(context, () => svc().syncMaps.create({ uniqueName: map }));
  } catch (err) {
    if (!isCode(err, 409)) throw err; // created meanwhile by another request
  }
  try {
    return await create();
  } catch (err) {
    if (isCode(err, 409, 54208)) return update();
    throw err;
  }
}

/** Deletes the item; an item (or map) that does not exist is fine. */
async function deleteItem(context, client, { map, key, ifMatch }) {
  try {
    await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).remove(ifMatch ? { ifMatch } : undefined));
    return true;
  } catch (err) {
    if (isCode(err, 404)) return false;
    throw err;
  }
}

/** Conditional update; resolves with the new revision, or null if the revision no longer matches / the item is gone. */
async function updateItemIfMatch(context, client, { map, key, data, ifMatch }) {
  try {
    const item = await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).update({ data, ifMatch }));
    return item.revision;
  } catch (err) {
    if (isCode(err, 412) || isCode(err, 404)) return null;
    throw err;
  }
}

/**
 * A failed Twilio request as an HttpError for our caller, naming what failed and carrying
 * Twilio's error: Twilio's 4xx pass through (e.g. 400 "Call is not in-progress", 404), except
 * 401/403 which mean our credentials are wrong (500); 429, 5xx and network errors are 502.
 */
function twilioFailure(what, err) {
  if (err instanceof HttpError) return err;
  const s = err && Number.isInteger(err.status) ? err.status : null;
  const status = s === 401 || s === 403 ? 500 : s && s >= 400 && s < 500 && s !== 429 ? s : 502;
  const twilioError = err && err.code ? { code: err.code, status: err.status, message: err.message, moreInfo: err.moreInfo } : { message: (err && err.message) || String(err) };
  return new HttpError(status, `${what} failed: ${(err && err.message) || err}`, { twilioError });
}

/**
 * Runs a domain crate call (`mod.call(fn)` from common/wasm) and turns the crate's errors
 * (`{code, status, parameter}`) into an HttpError with that status and a JSON body
 * `{error, code, parameter}`; traps keep their own 500.
 */
function callWasm(mod, fn) {
  try {
    return mod.call(fn);
  } catch (err) {
    if (err && typeof err.code === 'string' && Number.isInteger(err.status) && !(err instanceof HttpError)) {
      throw new HttpError(err.status, err.message, { code: err.code, ...(err.parameter ? { parameter: err.parameter } : {}) });
    }
    throw err;
  }
}

/** Request fields as the crates take them: strings or undefined (objects as JSON text). */
function formFields(event, names) {
  const out = {};
  for (const name of names) {
    const v = event[name];
    if (v === undefined || v === null) continue;
    out[name] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

module.exports = {
  callWasm,
  formFields,
  twilioClient,
  validateFlexToken,
  withRetry,
  requireEnv,
  fetchItem,
  upsertItem,
  deleteItem,
  updateItemIfMatch,
  twilioFailure,
  OriginRewritingClient,
};
