// GET|POST /admin/fetch-config (used by `npm run fetch-config` and `npm run deploy`, not the plugin)
// The running config document, so a CLI deploy starts from what admins published. Credentials go
// only in the header `Authorization: Basic base64(<API key or account SID>:<secret>)`, never in a
// URL; they are checked by fetching this service with them, so they must belong to this account.
const tw = require(Runtime.getFunctions()['common/client'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const { handle, HttpError } = require(Runtime.getFunctions()['common/http'].path);
const twilio = require('twilio');

function basicCredentials(event) {
  const headers = (event.request && event.request.headers) || {};
  const m = /^Basic\s+(\S+)$/i.exec(String(headers.authorization || headers.Authorization || '').trim());
  if (!m) return null;
  const [user, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
  return user && rest.length ? { user, secret: rest.join(':') } : null;
}

exports.handler = handle(async (context, event) => {
  if (event.apiKey !== undefined || event.apiSecret !== undefined) {
    throw new HttpError(400, 'Credentials are not accepted as parameters (they end up in URLs and logs); send Authorization: Basic base64(apiKey:apiSecret)', { parameter: 'apiKey' });
  }
  const creds = basicCredentials(event);
  if (!creds) throw new HttpError(401, 'Unauthorized: send Authorization: Basic base64(apiKey:apiSecret) with an API key of this account');
  const accountSid = tw.requireEnv(context, 'ACCOUNT_SID');
  const client = twilio(creds.user, creds.secret, { accountSid, httpClient: new tw.TimedClient(tw.apiOrigin(context)) });
  try {
    await client.serverless.v1.services(tw.requireEnv(context, 'SERVICE_SID')).fetch();
  } catch (err) {
    if (err && [401, 403, 404].includes(err.status)) throw new HttpError(401, 'Unauthorized: these credentials cannot read this service');
    throw tw.twilioFailure('Checking the credentials', err);
  }
  const text = await cfg.runningText(context);
  try {
    return { status: 200, body: JSON.parse(text) };
  } catch (err) {
    throw new HttpError(500, `The deployed config is not JSON (${err.message}); fix assets/config.private.json and deploy`);
  }
});
