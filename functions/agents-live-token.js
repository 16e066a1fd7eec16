// GET|POST /agents-live-token — a short-lived Sync token for the live agents view
// (/wallboard/agents.html, docs/agents-live.md). Same credentials as /wallboard-token: a
// supervisor's or admin's Flex token, or the wallboard key. crates/agents-live decides (its
// `startAgentsLiveToken` machine): a Flex login gets the identity `wallboard-supervisor` (read on
// the shard documents, with agents' names, and the counts), a key `wallboard-reader` (counts
// only, unless AGENTS_LIVE_KEY_SHOWS_NAMES=true); the grant names the board's own service
// (WALLBOARD_SYNC_SID, ACL on: one Sync read checks it), never Flex's.
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { live } = require(Runtime.getFunctions()['common/agents-live'].path);

exports.handler = handle(async (context, event) => {
  const { via, viewer, ttlSeconds } = await auth.wallboardSyncToken(context, event);
  for (const name of ['ACCOUNT_SID', 'API_KEY', 'API_SECRET']) tw.requireEnv(context, name);
  const caller = { via, viewer, ttlSeconds };
  return tw.minted(context, await live.run(context, (w, input) => w.startAgentsLiveToken(input), { caller, origin: tw.apiOrigin(context) }));
});
