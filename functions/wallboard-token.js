// GET|POST /wallboard-token — a short-lived Sync access token for the wallboard page.
// Who: a supervisor's or admin's Flex token (`Authorization: Bearer <token>` or `Token`), or the
// wallboard key (`Authorization: Wallboard <key>`, for a TV); crates/auth decides the identity
// (`wallboard-reader`), its permission and the TTL (WALLBOARD_TOKEN_TTL, default 3600 s).
// crates/agents-live's `startWallboardToken` machine decides the rest: the grant names the
// statistics service WALLBOARD_SYNC_SID only (never Flex's or parking's), whose ACL must be on
// (one Sync read), the read grant on the root object again (`queueStats`, or `queueStats.index`
// with QUEUE_STATS_LAYOUT=documents: it heals a grant lost), and the channels the page shows
// (QUEUE_STATS_CHANNELS). O(1) Sync requests, whatever the number of queues.
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { live } = require(Runtime.getFunctions()['common/agents-live'].path);

exports.handler = handle(async (context, event) => {
  const { via, viewer, identity, permission, ttlSeconds } = await auth.wallboardSyncToken(context, event);
  for (const name of ['ACCOUNT_SID', 'API_KEY', 'API_SECRET']) tw.requireEnv(context, name);
  const caller = { via, viewer, identity, permission, ttlSeconds };
  return tw.minted(context, await live.run(context, (w, input) => w.startWallboardToken(input), { caller, origin: tw.apiOrigin(context) }));
});
