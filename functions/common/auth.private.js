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
// /v1/Accounts/{AC}/Tokens/validate, JSON {token}, Basic auth); the effects executor makes it (the
// operation validateFlexToken) and crates/auth reads IAM's answer (`iamVerdict`).
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
// The effects executor makes IAM's request (operation validateFlexToken: deadline, retries of a 429/503).
const effects = () => require(Runtime.getFunctions()['common/effects'].path);

const rule = wasmModule('auth');

/** IAM's answer for `token` ({valid, worker_sid, roles, identity, message}): the effect validateFlexToken, read by crates/auth (throws 500/502/504). */
async function validateWithIam(context, token) {
  // The settings the request needs, each refused by name (500) before anything is sent.
  const { requireEnv, regionOptions } = require(Runtime.getFunctions()['common/client'].path);
  requireEnv(context, 'ACCOUNT_SID');
  requireEnv(context, 'AUTH_TOKEN');
  regionOptions(context);
  const outcome = await effects().perform(context, null, { op: { kind: 'validateFlexToken', token }, retry: true });
  return callWasm(rule, (wasm) => wasm.iamVerdict(outcome));
}

/** The credential a request presents (crates/auth `presented`: which one wins, a token in the URL). */
function credentialOf(event) {
  const headers = (event.request && event.request.headers) || {};
  const text = (v) => (v === undefined || v === null ? null : String(v));
  const request = { token: text(event.Token), contentType: text(headers['content-type']), authorization: text(headers.authorization || headers.Authorization) };
  return callWasm(rule, (wasm) => wasm.presented(request));
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

module.exports = { authorize, identify, check, credentialOf, validateWithIam, wallboardSyncToken, boardReader };
