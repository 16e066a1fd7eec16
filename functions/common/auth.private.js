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

const settings = (context) => ({ wallboardKey: context.WALLBOARD_KEY || null });
/** The rule for an identified credential: the grant, or throws 403 (400/500; a refused key's `log` line for common/http). */
const check = (context, credential, access) => callWasm(rule, (wasm) => wasm.authorize(credential, access, settings(context)));
/** Authorizes the request `event` for `access`; resolves with the grant, or throws. */
const authorize = async (context, event, access) => check(context, await identify(context, event), access);

/** The wallboard's Sync token for the request (supervisor screens or the key): `{via, identity, viewer, permission, ttlSeconds}`. */
async function wallboardSyncToken(context, event) {
  const credential = await identify(context, event);
  const ttl = context.WALLBOARD_TOKEN_TTL === undefined ? undefined : String(context.WALLBOARD_TOKEN_TTL);
  return callWasm(rule, (wasm) => wasm.wallboardSyncToken(credential, settings(context), ttl));
}

module.exports = { authorize, identify, check, wallboardSyncToken };
