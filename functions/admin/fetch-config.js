// GET|POST /admin/fetch-config (used by `npm run fetch-config` and `npm run deploy`, not the plugin)
// The running config document, so a CLI deploy starts from what admins published. Credentials go
// only in the header `Authorization: Basic base64(<API key or account SID>:<secret>)`, never in a
// URL; they are checked by fetching this service with them, so they must belong to this account.
// The machine is crates/schedule-admin's (machine.rs); common/effects makes the request.
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { requireEnv } = require(Runtime.getFunctions()['common/client'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  const headers = (event.request && event.request.headers) || {};
  const authorization = headers.authorization || headers.Authorization;
  const request = { credentialsInParameters: event.apiKey !== undefined || event.apiSecret !== undefined, authorization: authorization === undefined ? null : String(authorization) };
  const serviceSid = requireEnv(context, 'SERVICE_SID');
  requireEnv(context, 'ACCOUNT_SID');
  const text = await cfg.runningText(context);
  return effects.run(context, cfg.admin, (wasm) => wasm.startAdminFetchConfig(serviceSid, request, text));
});
