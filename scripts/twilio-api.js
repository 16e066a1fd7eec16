// Twilio API clients for the project's scripts (deploy, fetch-config), aimed at TWILIO_API_ORIGIN
// when it is set (the emulator), exactly as functions/common/client does for the functions: same
// path, method, headers and body, plus X-Forwarded-Host naming the Twilio host it was meant for.
//
//   const { credentials, restClient, serverlessClient } = require('./twilio-api');
//   const creds = credentials(env);     // {username, password, accountSid} from env, or throws
const twilio = require('twilio');
const { TwilioServerlessApiClient } = require('@twilio-labs/serverless-api');

const origin = (env) => (env.TWILIO_API_ORIGIN ? String(env.TWILIO_API_ORIGIN).trim().replace(/\/+$/, '') : null);

/** API key and secret (TWILIO_API_KEY/TWILIO_API_SECRET) or ACCOUNT_SID/AUTH_TOKEN from `env`. */
function credentials(env) {
  const accountSid = env.ACCOUNT_SID;
  if (env.TWILIO_API_KEY && env.TWILIO_API_SECRET && accountSid) {
    return { username: env.TWILIO_API_KEY, password: env.TWILIO_API_SECRET, accountSid };
  }
  if (accountSid && env.AUTH_TOKEN) return { username: accountSid, password: env.AUTH_TOKEN, accountSid };
  throw new Error('Twilio credentials are missing: set ACCOUNT_SID and AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET with ACCOUNT_SID) in .env or the environment.');
}

/** Where a request meant for `url` goes, and the headers to add. */
function route(env, url) {
  const o = origin(env);
  if (!o) return { uri: url, headers: {} };
  const target = new URL(url);
  return { uri: `${o}${target.pathname}${target.search}`, headers: { 'X-Forwarded-Host': target.host } };
}

/** TWILIO_REGION/TWILIO_EDGE as the clients take them (each only when set). */
function regional(env) {
  const out = {};
  for (const [name, key] of [
    ['TWILIO_REGION', 'region'],
    ['TWILIO_EDGE', 'edge'],
  ])
    if (env[name] && String(env[name]).trim()) out[key] = String(env[name]).trim();
  return out;
}

/** The `twilio` REST client. */
function restClient(env) {
  const { username, password, accountSid } = credentials(env);
  const inner = new twilio.RequestClient({ timeout: 15000 });
  const httpClient = {
    request(opts) {
      const { uri, headers } = route(env, opts.uri);
      return inner.request({ ...opts, uri, headers: { ...(opts.headers || {}), ...headers } });
    },
  };
  return twilio(username, password, { accountSid, httpClient, ...regional(env) });
}

/** The Serverless Toolkit's client (the one `twilio serverless:deploy` uses). */
function serverlessClient(env) {
  const { username, password } = credentials(env);
  const client = new TwilioServerlessApiClient({ username, password, ...regional(env) });
  if (origin(env)) {
    client.client = client.client.extend({
      hooks: {
        beforeRequest: [
          (options) => {
            const { uri, headers } = route(env, options.url.toString());
            const target = new URL(uri);
            // got keeps the Basic credentials in the URL; carry them over.
            target.username = options.url.username;
            target.password = options.url.password;
            options.url = target;
            Object.assign(options.headers, { 'x-forwarded-host': headers['X-Forwarded-Host'] });
          },
        ],
      },
    });
  }
  return client;
}

module.exports = { credentials, route, restClient, serverlessClient, origin, regional };
