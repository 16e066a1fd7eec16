// POST /realtimestats-updateQueueStatistics — the TaskRouter workspace's Event Callback URL.
// Same path as the published Flex realtime stats dashboard's function, so workspaces keep their
// callback. TaskRouter posts every workspace event (form-encoded); the queue-stats module decides
// what it means and builds the Sync record, common/queue-stats performs the reads and writes.
// A malformed or irrelevant event is a 200 no-op (TaskRouter would retry a failure); only a
// misconfiguration is an error. `checkMap=true` (the published set-up call) is accepted and
// ignored: the Sync map and documents are created on demand.
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const { createUpdater } = require(Runtime.getFunctions()['common/queue-stats'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { createParkedBoard } = require(Runtime.getFunctions()['common/parked-board'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);

// The configuration (QUEUE_STATS_*) is validated once per container; a bad value is a 500 naming it.
let env = {};
const queueStats = wasmModule('queue_stats', (wasm) => new wasm.QueueStats(env));
// Every wasm call goes through the loader, so a trap reloads the module instead of poisoning it.
const qs = new Proxy(
  {},
  {
    get:
      (_, name) =>
      (...args) =>
        queueStats.call((wasm, instance) => instance[name](...args)),
  },
);
let updater = null;

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
  const workspaceSid = tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  const syncServiceSid = tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID');
  env = Object.fromEntries(Object.entries(context).filter(([key, value]) => key.startsWith('QUEUE_STATS_') && typeof value === 'string'));
  if (!updater) {
    const client = tw.twilioClient(context);
    // The wallboard's statistics service (docs/wallboard.md), when configured and not Flex's own.
    const boardSid = context.WALLBOARD_SYNC_SID && String(context.WALLBOARD_SYNC_SID) !== syncServiceSid ? String(context.WALLBOARD_SYNC_SID) : null;
    const board = boardSid ? { serviceSid: boardSid, reader: auth.boardReader() } : null;
    // Parked calls on the board (docs/direct-calls.md): each record's `parked` figures.
    const parked = createParkedBoard({ context, syncServiceSid: context.SYNC_SERVICE_SID || syncServiceSid, parking: wasmModule('parking') });
    // The crate's store machine, on the effects executor (docs/effects.md).
    const machine = (start) => effects.run(context, queueStats, (wasm, instance) => start(instance), { resume: 'resumeQueueStats', client }).then((answer) => answer.body);
    updater = createUpdater({ qs, client, workspaceSid, syncServiceSid, machine, retry: (fn) => tw.withRetry(context, fn), remaining: () => remainingMs(), board, extras: parked });
  }
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
