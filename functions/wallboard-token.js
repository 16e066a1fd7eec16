// GET|POST /wallboard-token — a short-lived Sync access token for the wallboard page.
// Who: a supervisor's or admin's Flex token (`Authorization: Bearer <token>` or `Token`), or the
// wallboard key (`Authorization: Wallboard <key>`, for a TV). The token (API_KEY/API_SECRET, TTL
// WALLBOARD_TOKEN_TTL seconds, default 3600) has a Sync grant on the statistics service
// WALLBOARD_SYNC_SID only — never on Flex's service, whose objects (parked calls, pickups, history)
// a token would read and write with Flex's default ACL off. Every board token has the identity
// `wallboard-reader` (crates/auth), which the statistics writer grants read-only permission on each
// statistics object it creates. Minting costs O(1) Sync requests, whatever the number of queues:
// the service is checked to enforce ACL (else a token could write it: 500), and the root object
// (the `queueStats` map, or the `queueStats.index` map) is granted again, which heals a grant lost.
const twilio = require('twilio');
const { handle, HttpError } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);

const MAP = 'queueStats';
const INDEX = 'queueStats.index';

/** The statistics service SID, refused when it is one of the services other functions use. */
function boardService(context) {
  const sid = tw.requireEnv(context, 'WALLBOARD_SYNC_SID');
  for (const other of ['TWILIO_FLEX_SYNC_SID', 'SYNC_SERVICE_SID']) {
    if (context[other] && String(context[other]) === sid) {
      throw new HttpError(500, `Server misconfigured: WALLBOARD_SYNC_SID is ${other}'s service; board tokens need a service of their own (npm run deploy creates it)`);
    }
  }
  return sid;
}

exports.handler = handle(async (context, event) => {
  const plan = await auth.wallboardSyncToken(context, event);
  const accountSid = tw.requireEnv(context, 'ACCOUNT_SID');
  const apiKey = tw.requireEnv(context, 'API_KEY');
  const apiSecret = tw.requireEnv(context, 'API_SECRET');
  const serviceSid = boardService(context);
  const layout = context.QUEUE_STATS_LAYOUT === 'documents' ? 'documents' : 'map';
  const service = tw.twilioClient(context).sync.v1.services(serviceSid);
  const { aclEnabled } = await tw
    .withRetry(context, () => service.fetch())
    .catch((err) => {
      throw tw.twilioFailure('Reading the wallboard Sync service (WALLBOARD_SYNC_SID)', err);
    });
  if (!aclEnabled) {
    throw new HttpError(500, `Server misconfigured: the Sync service WALLBOARD_SYNC_SID (${serviceSid}) has ACL off, so a board token could write it; enable it (npm run deploy does)`);
  }
  const root = layout === 'documents' ? INDEX : MAP;
  await tw
    .withRetry(context, () => service.syncMaps(root).syncMapPermissions(plan.identity).update(plan.permission))
    .catch((err) => {
      if (err.status !== 404) throw tw.twilioFailure('Granting the wallboard read access in Sync', err); // 404: no statistics yet
    });
  const { region } = tw.regionOptions(context); // the token names the account's Region (TWILIO_REGION)
  const token = new twilio.jwt.AccessToken(accountSid, apiKey, apiSecret, { identity: plan.identity, ttl: plan.ttlSeconds, ...(region && { region }) });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid }));
  return {
    status: 200,
    body: {
      token: token.toJwt(),
      identity: plan.identity,
      viewer: plan.viewer,
      via: plan.via,
      ttlSeconds: plan.ttlSeconds,
      expiresAt: new Date(Date.now() + plan.ttlSeconds * 1000).toISOString(),
      serviceSid,
      layout,
      map: MAP,
      index: INDEX,
      documentPrefix: `${MAP}.`,
      acl: { enabled: true, identity: plan.identity, ...plan.permission },
      // Only with the local emulator (never set in a deployment): where its live-update stand-in is.
      emulatorOrigin: tw.apiOrigin(context),
    },
  };
});
