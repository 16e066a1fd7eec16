// GET|POST /wallboard-token — a short-lived Sync access token for the wallboard page.
// Who: a supervisor's or admin's Flex token (`Authorization: Bearer <token>` or `Token`), or the
// wallboard key (`Authorization: Wallboard <key>`, for a TV). The token (API_KEY/API_SECRET, TTL
// WALLBOARD_TOKEN_TTL seconds, default 3600) has a Sync grant on TWILIO_FLEX_SYNC_SID. Where the
// service enforces ACL (`acl_enabled`), the token's identity gets read-only permission (Read, no
// Write or Manage) on the statistics objects: the `queueStats` map, or in the documents layout the
// `queueStats.index` map and every queue's document; nothing else is granted.
const twilio = require('twilio');
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);

const MAP = 'queueStats';
const INDEX = 'queueStats.index';
const READ_ONLY = { read: true, write: false, manage: false };

/** Read-only permissions for `identity` on the statistics objects, when the service enforces ACL. */
async function grantReadOnly(context, client, serviceSid, identity, layout) {
  const service = client.sync.v1.services(serviceSid);
  const { aclEnabled } = await tw.withRetry(context, () => service.fetch());
  if (!aclEnabled) return { enforced: false, objects: [] };
  const objects = [];
  const grant = async (kind, id) => {
    const object = kind === 'map' ? service.syncMaps(id).syncMapPermissions(identity) : service.documents(id).documentPermissions(identity);
    await tw.withRetry(context, () => object.update(READ_ONLY)).catch((err) => {
      if (err.status !== 404) throw err; // not created yet: granted on the next token
    });
    objects.push(`${kind}:${id}`);
  };
  if (layout !== 'documents') await grant('map', MAP);
  else {
    await grant('map', INDEX);
    // Sync list pages hold at most 100 items; list() follows next_page_url through the rest.
    const entries = await tw.withRetry(context, () => service.syncMaps(INDEX).syncMapItems.list({ pageSize: 100 })).catch((err) => (err.status === 404 ? [] : Promise.reject(err)));
    for (const entry of entries) await grant('document', (entry.data && entry.data.document) || `${MAP}.${entry.key}`);
  }
  return { enforced: true, objects };
}

exports.handler = handle(async (context, event) => {
  const { identity, ttlSeconds: ttl, via } = await auth.wallboardSyncToken(context, event);
  const accountSid = tw.requireEnv(context, 'ACCOUNT_SID');
  const apiKey = tw.requireEnv(context, 'API_KEY');
  const apiSecret = tw.requireEnv(context, 'API_SECRET');
  const serviceSid = tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID');
  const layout = context.QUEUE_STATS_LAYOUT === 'documents' ? 'documents' : 'map';
  const acl = await grantReadOnly(context, tw.twilioClient(context), serviceSid, identity, layout).catch((err) => {
    throw tw.twilioFailure('Granting the wallboard read access in Sync', err);
  });
  const { region } = tw.regionOptions(context); // the token names the account's Region (TWILIO_REGION)
  const token = new twilio.jwt.AccessToken(accountSid, apiKey, apiSecret, { identity, ttl, ...(region && { region }) });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid }));
  return {
    status: 200,
    body: {
      token: token.toJwt(),
      identity,
      via,
      ttlSeconds: ttl,
      expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
      serviceSid,
      layout,
      map: MAP,
      index: INDEX,
      documentPrefix: `${MAP}.`,
      acl,
      // Only with the local emulator (never set in a deployment): where its live-update stand-in is.
      emulatorOrigin: tw.apiOrigin(context),
    },
  };
});
