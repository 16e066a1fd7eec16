// Who may do what: every function called by people asks here. The rule lives in Rust (crates/auth);
// this file only fetches IAM's answer for a Flex token and hands both to the rule.
//
//   const auth = require(Runtime.getFunctions()['common/auth'].path);
//   const grant = await auth.authorize(context, event, { kind: 'actFor', workerSid: event.workerSid });
//   // other kinds: {kind: 'anyWorker'}, {kind: 'supervise', wallboardKey: true},
//   //              {kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'editing schedules'}
//   // grant: {via: 'flex'|'wallboardKey', workerSid, identity, roles, supervisor}; refusals throw 403
//   // when the worker is known only after a read (pickup: the parked call's worker), validate once:
//   const who = await auth.identify(context, event); auth.check(context, who, access1); ... auth.check(context, who, access2);
//
// Credentials: the Flex token as `Token` (form or JSON body, as the Flex plugins send it; never
// in a URL's query string: see credentialOf) or in `Authorization: Bearer <token>`; a wallboard key only in the header `Authorization: Wallboard
// <key>` (twilio-run merges the query string into `event`, so a body field could come from a URL;
// secrets stay out of URLs and logs). IAM's request is the one twilio-flex-token-validator makes (POST
// /v1/Accounts/{AC}/Tokens/validate, JSON {token}, Basic auth), made here so it has a timeout.
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { HttpError } = require(Runtime.getFunctions()['common/http'].path);
const { apiOrigin, requireEnv, route, withRetry, productHost } = require(Runtime.getFunctions()['common/client'].path);
const { requestTimeoutMs, DeadlineError } = require(Runtime.getFunctions()['common/deadline'].path);

const rule = wasmModule('auth');

// TWILIO_REGION/TWILIO_EDGE as for every REST request (common/client); us1 alone stays iam.twilio.com.
function iamUrl(context, accountSid) {
  const host = productHost(context, 'iam').replace(/^iam\.us1\.twilio\.com$/, 'iam.twilio.com');
  return `https://${host}/v1/Accounts/${accountSid}/Tokens/validate`;
}

/** IAM's answer for `token` ({valid, worker_sid, roles, identity, message, ...}). */
async function validateWithIam(context, token) {
  const accountSid = requireEnv(context, 'ACCOUNT_SID');
  const authToken = requireEnv(context, 'AUTH_TOKEN');
  const { uri, headers } = route(apiOrigin(context), iamUrl(context, accountSid));
  const res = await withRetry(context, async () => {
    let r;
    try {
      r = await fetch(uri, {
        method: 'POST',
        headers: {
          ...headers,
          Authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
          'Cache-Control': 'no-cache',
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(requestTimeoutMs()),
      });
    } catch (err) {
      if (err instanceof DeadlineError) throw new HttpError(504, err.message);
      throw new HttpError(502, `Could not validate the Flex token: IAM did not answer (${err.message})`);
    }
    if (r.status === 429 || r.status === 503) throw Object.assign(new Error(`IAM answered ${r.status}`), { status: r.status });
    return r;
  }).catch((err) => {
    throw err instanceof HttpError ? err : new HttpError(502, `Could not validate the Flex token: ${err.message}`);
  });
  return iamVerdict(res.status, await res.text());
}

/**
 * IAM's answer as the rule reads it (docs/authorization.md). Like twilio-flex-token-validator, the
 * body decides, whatever the status: a boolean `valid` is IAM's verdict on the token. A 401/403
 * without one is a REST error: code 20003 ("Authenticate", Twilio's answer to wrong account
 * credentials) is our misconfiguration (500); any other refusal is taken as a bad token (403).
 */
function iamVerdict(status, text) {
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (body && typeof body === 'object' && typeof body.valid === 'boolean') return body;
  if (status === 401 || status === 403) {
    if (body && Number(body.code) === 20003) {
      throw new HttpError(500, `Server misconfigured: IAM refused this service's credentials (HTTP ${status}, code 20003); check ACCOUNT_SID and AUTH_TOKEN`);
    }
    const why = body && body.message ? String(body.message) : `IAM answered HTTP ${status}`;
    return { valid: false, message: body && body.code ? `${why} (code ${body.code})` : why };
  }
  if (!body) throw new HttpError(502, `Could not validate the Flex token: IAM answered HTTP ${status} without JSON`);
  throw new HttpError(502, `Could not validate the Flex token: IAM answered HTTP ${status} without a verdict`);
}

const text = (v) => (v === undefined || v === null ? '' : String(v).trim());

// The runtime merges the query string and a parsed body (form or JSON) into `event`, and tells the
// function only the request's headers and cookies (`event.request`): not its method nor its URL.
// So `Token` in `event` is known to come from the URL exactly when the request has no body the
// runtime parses (no form or JSON Content-Type: a GET, typically); then it is refused (400
// token_in_url). A POST with a form or JSON body may carry it in either, and is accepted.
const PARSED_BODY = /^\s*application\/(x-www-form-urlencoded|json)\b/i;

/** The credential a request carries: a wallboard key (header) or a Flex token. */
function credentialOf(event) {
  const headers = (event.request && event.request.headers) || {};
  if (text(event.Token) && !PARSED_BODY.test(text(headers['content-type']))) return { kind: 'flexTokenInUrl' };
  const header = text(headers.authorization || headers.Authorization);
  const [scheme, ...rest] = header.split(/\s+/);
  const value = rest.join(' ');
  if (/^wallboard$/i.test(scheme) && value) return { kind: 'wallboardKey', key: value };
  if (/^bearer$/i.test(scheme) && value) return { kind: 'flex', token: value };
  return { kind: 'flex', token: text(event.Token) };
}

/** The request's credential, with IAM's answer for a Flex token: what `check` decides on. */
async function identify(context, event) {
  const found = credentialOf(event);
  if (found.kind !== 'flex') return found;
  return { kind: 'flex', iam: found.token ? await validateWithIam(context, found.token) : null };
}

/**
 * A refused wallboard key answers the same whatever the configured key is; what is wrong with
 * WALLBOARD_KEY (not set, too short) goes to the server's log only, for the operator.
 */
function keyRefusalLogged(credential, settings, fn) {
  try {
    return fn();
  } catch (err) {
    if (credential.kind === 'wallboardKey' && err.extra && err.extra.code === 'wrong_wallboard_key') {
      const problem = callWasm(rule, (wasm) => wasm.wallboardKeyProblem(settings));
      if (problem) console.error(`A wallboard key was refused: ${problem}`);
    }
    throw err;
  }
}

/** The rule (Rust) for an identified credential: the grant, or throws 403 (400/500). */
function check(context, credential, access) {
  const settings = { wallboardKey: context.WALLBOARD_KEY || null };
  return keyRefusalLogged(credential, settings, () => callWasm(rule, (wasm) => wasm.authorize(credential, access, settings)));
}

/** Authorizes the request `event` for `access`; resolves with the grant, or throws 403 (400/500). */
async function authorize(context, event, access) {
  return check(context, await identify(context, event), access);
}

/**
 * The wallboard's Sync token for the request: authorizes it for the supervisor screens (or the
 * wallboard key), then says whom to mint for: `{identity, ttlSeconds}` (WALLBOARD_TOKEN_TTL).
 */
async function wallboardSyncToken(context, event) {
  const credential = await identify(context, event);
  const access = { kind: 'supervise', wallboardKey: true };
  const settings = { wallboardKey: context.WALLBOARD_KEY || null };
  const ttl = context.WALLBOARD_TOKEN_TTL === undefined ? undefined : String(context.WALLBOARD_TOKEN_TTL);
  return keyRefusalLogged(credential, settings, () => callWasm(rule, (wasm) => wasm.wallboardSyncToken(credential, access, settings, ttl)));
}

/** The board's Sync identity and its permission on statistics objects (crates/auth). */
const boardReader = () => callWasm(rule, (wasm) => wasm.boardReader());

module.exports = { authorize, identify, check, credentialOf, validateWithIam, iamVerdict, wallboardSyncToken, boardReader };
