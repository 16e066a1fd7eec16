// Who may do what (docs/authorization.md): crates/auth identifies the request (asking IAM about a
// Flex token) and decides; a refusal throws (403, 400/500/502/504).
//   const grant = await auth.authorize(context, event, { kind: 'actFor', workerSid });  // {via, workerSid, identity, roles, supervisor}
const { shared, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const effects = () => require(Runtime.getFunctions()['common/effects'].path);
const rule = shared('auth'); // the container's one instance: common/client and common/deadline read settings' rules from it
const text = (v) => (v === undefined || v === null ? null : String(v));

/** The request's credential, with IAM's verdict for a Flex token (throws 400/500/502/504). */
function identify(context, event) {
  const headers = (event.request && event.request.headers) || {};
  const request = { token: text(event.Token), contentType: text(headers['content-type']), authorization: text(headers.authorization || headers.Authorization) };
  return effects().run(context, rule, (wasm) => wasm.startIdentify(request), 'resumeIdentify');
}

/** `decide(wasm, settings)` (the rule); a refusal throws (403, 400/500) after logging the line crates/auth gives for it. */
function decided(context, decide) {
  const settings = { wallboardKey: context.WALLBOARD_KEY || null };
  try {
    return callWasm(rule, (wasm) => decide(wasm, settings));
  } catch (err) {
    const line = callWasm(rule, (wasm) => wasm.refusalLog(err.extra ? err.extra.code : null, settings));
    if (line) console.error(line);
    throw err;
  }
}
/** The rule for an identified credential: the grant, or throws 403 (400/500). */
const check = (context, credential, access) => decided(context, (wasm, settings) => wasm.authorize(credential, access, settings));
/** Authorizes the request `event` for `access`; resolves with the grant, or throws. */
const authorize = async (context, event, access) => check(context, await identify(context, event), access);

/** The wallboard's Sync token for the request (supervisor screens or the key): `{via, identity, viewer, permission, ttlSeconds}`. */
async function wallboardSyncToken(context, event) {
  const credential = await identify(context, event);
  const ttl = context.WALLBOARD_TOKEN_TTL === undefined ? undefined : String(context.WALLBOARD_TOKEN_TTL);
  return decided(context, (wasm, settings) => wasm.wallboardSyncToken(credential, settings, ttl));
}
/** The board's Sync identity and its permission on statistics objects. */
const boardReader = () => callWasm(rule, (wasm) => wasm.boardReader());

module.exports = { authorize, identify, check, wallboardSyncToken, boardReader };
