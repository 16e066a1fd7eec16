// POST /realtimestats-updateQueueStatistics — the TaskRouter workspace's Event Callback URL.
// Same path as the published Flex realtime stats dashboard's function, so workspaces keep their
// callback. TaskRouter posts every workspace event (form-encoded); crates/queue-stats' machines
// decide what it means and keep the Sync records (common/queue-stats runs them). A malformed or
// irrelevant event is a 200 no-op (TaskRouter would retry a failure); only a misconfiguration is
// an error. `checkMap=true` (the published set-up call) is accepted and ignored.
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const { updaterFor } = require(Runtime.getFunctions()['common/queue-stats'].path);
// Queue history (docs/queue-history.md): crates/history-machines' hook closes the last hour a few
// queues per event; costs nothing on most events and never fails the callback.
const { historyTick } = require(Runtime.getFunctions()['common/history-hook'].path);
// Voicemail for direct calls (docs/voicemail.md): never throws.
const { voicemailHook } = require(Runtime.getFunctions()['common/voicemail'].path);
// The live agents view (docs/agents-live.md): never throws, never fails the callback.
const { agentsLiveTick } = require(Runtime.getFunctions()['common/agents-live'].path);
// Agent history (docs/agent-history.md): one record read, at most one write per event; never throws.
const { agentHistoryHook } = require(Runtime.getFunctions()['common/agent-history'].path);

exports.handler = handle(async (context, event) => {
  const updater = updaterFor(context);
  const { request, ...fields } = event;
  const [summary, history, voicemail, agentsLive, agentHistory] = await Promise.all([
    updater.handle(fields),
    historyTick(context),
    voicemailHook(context, fields),
    agentsLiveTick(context, fields),
    agentHistoryHook(context, fields),
  ]);
  Object.assign(summary, { history, voicemail, agentsLive, agentHistory });
  console.log(`queue-stats: ${fields.EventType || '(no EventType)'}: ${summary.plan.action}: ${summary.plan.reason}` + (summary.errors.length ? `; errors: ${summary.errors.join('; ')}` : ''));
  return { status: 200, body: summary };
});
