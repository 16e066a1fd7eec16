// GET|POST /agents-live-token — a short-lived Sync token for the live agents view
// (/wallboard/agents.html, docs/agents-live.md). Same credentials as /wallboard-token: a
// supervisor's or admin's Flex token, or the wallboard key. Whom the token is for is the
// agents-live crate's rule: a Flex login gets the identity `wallboard-supervisor`, which the
// writer grants read on the shard documents (agents' names) and the counts documents; a key gets
// `wallboard-reader`, granted read on the counts documents only (no names), unless
// AGENTS_LIVE_KEY_SHOWS_NAMES=true. So what a key's token can read contains no name: it is Sync's
// ACL that refuses, not the page. The grant names the board's own service (WALLBOARD_SYNC_SID,
// ACL on), never Flex's. Minting costs one Sync request (the ACL check), whatever the number of agents.
const twilio = require('twilio');
const { handle, HttpError } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { agentsLiveModule, boardSidOf } = require(Runtime.getFunctions()['common/agents-live'].path);

exports.handler = handle(async (context, event) => {
  const plan = await auth.wallboardSyncToken(context, event);
  const accountSid = tw.requireEnv(context, 'ACCOUNT_SID');
  const apiKey = tw.requireEnv(context, 'API_KEY');
  const apiSecret = tw.requireEnv(context, 'API_SECRET');
  tw.requireEnv(context, 'WALLBOARD_SYNC_SID');
  const serviceSid = boardSidOf(context);
  if (!serviceSid) throw new HttpError(500, "Server misconfigured: WALLBOARD_SYNC_SID is Flex's (or parking's) Sync service; board tokens need a service of their own (npm run deploy creates it)");
  const mod = agentsLiveModule(context);
  const viewer = callWasm(mod, (wasm, al) => al.viewer(plan.via === 'wallboardKey'));
  const settings = callWasm(mod, (wasm, al) => al.settings());
  const { aclEnabled } = await tw
    .withRetry(context, () => tw.twilioClient(context).sync.v1.services(serviceSid).fetch())
    .catch((err) => {
      throw tw.twilioFailure('Reading the wallboard Sync service (WALLBOARD_SYNC_SID)', err);
    });
  if (!aclEnabled) {
    throw new HttpError(
      500,
      `Server misconfigured: the Sync service WALLBOARD_SYNC_SID (${serviceSid}) has ACL off, so a board token could read agents' names and write; enable it (npm run deploy does)`,
    );
  }
  const { region } = tw.regionOptions(context);
  const token = new twilio.jwt.AccessToken(accountSid, apiKey, apiSecret, { identity: viewer.identity, ttl: plan.ttlSeconds, ...(region && { region }) });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid }));
  return {
    status: 200,
    body: {
      token: token.toJwt(),
      identity: viewer.identity,
      names: viewer.names,
      viewer: plan.viewer,
      via: plan.via,
      ttlSeconds: plan.ttlSeconds,
      expiresAt: new Date(Date.now() + plan.ttlSeconds * 1000).toISOString(),
      serviceSid,
      shards: settings.shards,
      documentPrefix: settings.documentPrefix,
      countsPrefix: settings.countsPrefix,
      indexDocument: settings.indexDocument,
      // What the page's view needs to read the records as the writer does (no secrets).
      settings: Object.fromEntries(
        ['QUEUE_STATS_TIME_ZONE', 'AGENTS_LIVE_OFFLINE_ACTIVITIES', 'AGENTS_LIVE_AVAILABLE_ACTIVITIES', 'AGENTS_LIVE_TEAM_ATTRIBUTE']
          .filter((k) => typeof context[k] === 'string' && context[k].trim())
          .map((k) => [k, context[k]]),
      ),
      emulatorOrigin: tw.apiOrigin(context),
    },
  };
});
