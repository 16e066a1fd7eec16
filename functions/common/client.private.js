// The Twilio client the executor (common/effects) uses, its retries, settings as values::env reads
// them (through the auth module), and the Sync tokens the crates ask for (a JWT, no request).
// Contract: docs/effects.md, "The client".
const twilio = require('twilio');
const { HttpError } = require(Runtime.getFunctions()['common/http'].path);
const { requestTimeoutMs, remainingMs, REQUEST_TIMEOUT_MS } = require(Runtime.getFunctions()['common/deadline'].path);
const { shared, settingsIn: settings } = require(Runtime.getFunctions()['common/wasm'].path);

/** `fn(wasm)` on the auth module; a setting it refuses (its error names the variable) is our 500. */
const rules = (fn) =>
  shared('auth').call((w) => {
    try {
      return fn(w);
    } catch (err) {
      throw new HttpError(500, `Server misconfigured: ${err.message} (see .env.example).`, { code: err.code, variable: err.parameter });
    }
  });

/** Setting `name` under its name or an alias (README, "Settings and their aliases"), or null. */
const envValue = (context, name) => (rules((w) => w.envSetting(name, settings(context, w.envNames(name)))) || { value: null }).value;

/** Setting `name` as envValue reads it, or a 500 HttpError naming it. */
function requireEnv(context, name) {
  const value = envValue(context, name);
  if (value === null) throw new HttpError(500, `Server misconfigured: the environment variable ${name} is not set (see .env.example).`, { variable: name });
  return value;
}

/** TWILIO_API_ORIGIN without a trailing slash, or null (production). */
const apiOrigin = (context) =>
  String(context.TWILIO_API_ORIGIN || '')
    .trim()
    .replace(/\/+$/, '') || null;

/** Where a request meant for `twilioUrl` goes, and the headers to add (none in production). */
function route(origin, twilioUrl) {
  if (!origin) return { uri: twilioUrl, headers: {} };
  const target = new URL(twilioUrl);
  return { uri: `${origin}${target.pathname}${target.search}`, headers: { 'X-Forwarded-Host': target.host } };
}

/** A twilio httpClient: every request gets the invocation's timeout, and goes to `origin` if set. */
class TimedClient extends twilio.RequestClient {
  constructor(origin) {
    super({ timeout: REQUEST_TIMEOUT_MS });
    this.origin = origin;
  }

  // async: past the deadline a rejected promise, never a throw (docs/effects.md, "The client")
  async request(opts) {
    const { uri, headers } = route(this.origin, opts.uri);
    return super.request({ ...opts, uri, headers: { ...(opts.headers || {}), ...headers }, timeout: requestTimeoutMs() });
  }
}

const REGIONAL = ['TWILIO_REGION', 'TWILIO_EDGE'];
/** `{region?, edge?}` as the twilio client takes them (values::env::Regional). */
const regionOptions = (context) => rules((w) => w.regionOptions(settings(context, REGIONAL)));
/** The host of Twilio `product` for this context (iam -> iam.dublin.ie1.twilio.com). */
const productHost = (context, product) => rules((w) => w.productHost(settings(context, REGIONAL), product));

const clients = new Map();

/** The REST client for this account (ACCOUNT_SID/AUTH_TOKEN, as the runtime's own client uses), or with the caller's credentials `as` (neither kept nor guarded). */
function twilioClient(context, as = null) {
  const origin = apiOrigin(context);
  const accountSid = requireEnv(context, 'ACCOUNT_SID');
  const regional = regionOptions(context);
  if (as) return twilio(as.username, as.password, { accountSid, httpClient: new TimedClient(origin), ...regional });
  const authToken = requireEnv(context, 'AUTH_TOKEN');
  const key = `${origin} ${accountSid} ${authToken} ${regional.region || ''} ${regional.edge || ''}`;
  if (!clients.has(key)) {
    const client = twilio(accountSid, authToken, { httpClient: new TimedClient(origin), ...regional });
    const guard = origin && globalThis.twilioEmulatorGuard; // never loaded in a deployment
    clients.set(key, guard ? guard(client) : client);
  }
  return clients.get(key);
}

const RETRY_SETTINGS = ['TWILIO_SERVICE_RETRY_LIMIT', 'TWILIO_SERVICE_MIN_BACKOFF', 'TWILIO_SERVICE_MAX_BACKOFF'];
/** values::env's Retry: `{limit, minMs, maxMs}`, or a 500 HttpError naming a bad setting. */
const retrySettings = (context) => rules((w) => w.retrySettings(settings(context, RETRY_SETTINGS)));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn`, repeating it after a failure values::env::Retry repeats, while the deadline leaves 1 s. */
async function withRetry(context, fn) {
  const retry = retrySettings(context);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      const delay = shared('auth').call((w) => w.retryDelayMs(retry, attempt, err && err.status, Math.random()));
      if (delay === null || remainingMs() - delay < 1000) throw err;
      await sleep(delay);
    }
  }
}

/** The answer with the Sync token its `mint: {identity, ttlSeconds, serviceSid}` asks for (first), signed with API_KEY/API_SECRET; others unchanged. */
function minted(context, answer) {
  if (!answer || answer.status !== 200 || !answer.body || !answer.body.mint) return answer;
  const { mint, ...body } = answer.body;
  const { region } = regionOptions(context); // the token names the account's Region
  const [account, key, secret] = ['ACCOUNT_SID', 'API_KEY', 'API_SECRET'].map((name) => requireEnv(context, name));
  const token = new twilio.jwt.AccessToken(account, key, secret, { identity: mint.identity, ttl: mint.ttlSeconds, ...(region && { region }) });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: mint.serviceSid }));
  return { ...answer, body: { token: token.toJwt(), ...body } };
}

module.exports = { minted, apiOrigin, route, twilioClient, regionOptions, productHost, retrySettings, withRetry, requireEnv, envValue, TimedClient };
