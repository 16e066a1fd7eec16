// Agent history's event callback hook (docs/agent-history.md): crates/agent-history's machine
// `startAgentHistoryHook` (src/hook.rs) decides everything — the event's record and when it is
// written, the activities' names, pruning, which hour to close, its claim and reads, the day's
// build, closing an agent's rows again after a late event — and common/effects performs its
// requests. This container's memory (the hour being closed, names, queues) is the module
// instance's, under this container's owner id (also its claims' owner).
//
//   const { agentHistoryHook } = require(Runtime.getFunctions()['common/agent-history'].path);
//   await agentHistoryHook(context, fields)  // the event callback's one line; never throws:
//   // {kept, written, chunk, taskrouterCalls, syncReads, syncWrites, reclose?, closing} | {off: true} | {error}
//
// GET /agent-history is crates/agent-history's other machine (startAgentHistory), run by
// functions/agent-history.js. Scripts and tests drive this machine with scripts/agent-history-hook.js.
const { randomUUID } = require('crypto');
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);

const mod = wasmModule('agent_history');
const OWNER = randomUUID();

/** The machine's input for one event (`extra`: closeHour…). */
function hookInput(context, fields, extra = {}) {
  return {
    event: fields,
    env: Object.fromEntries(Object.entries(context).filter(([key, value]) => (key === 'QUEUE_STATS_TIME_ZONE' || key.startsWith('AGENT_HISTORY_')) && typeof value === 'string')),
    workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
    syncServiceSid: tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID'),
    owner: OWNER,
    run: randomUUID(),
    nonce: Math.floor(Math.random() * 1000),
    nowMs: Date.now(),
    ...extra,
  };
}

/** The event callback's hook: never throws (its failure is reported in the callback's answer). */
async function agentHistoryHook(context, fields) {
  try {
    const input = hookInput(context, fields);
    const answer = await effects.run(context, mod, (wasm) => wasm.startAgentHistoryHook(input), 'resumeAgentHistoryHook');
    return answer.body;
  } catch (err) {
    return { error: err.message };
  }
}

module.exports = { agentHistoryHook, hookInput };
