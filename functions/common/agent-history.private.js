// Agent history's event callback hook (docs/agent-history.md): crates/agent-history's machine
// `startAgentHistoryHook` (src/hook.rs) decides everything (the event's record, when it is
// written, pruning, which hour to close and how); common/effects performs its requests. What this
// container remembers between events (the hour being closed, names, queues) is the wasm
// instance's, under this container's owner id (also its claims' owner).
//
//   await agentHistoryHook(context, fields)  // never throws: the machine's summary | {off: true} | {error}
const { randomUUID } = require('crypto');
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);

const mod = wasmModule('agent_history');
const OWNER = randomUUID();

async function agentHistoryHook(context, fields) {
  try {
    const input = {
      event: fields,
      env: mod.settings(context, 'agentHistorySettings'),
      workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
      syncServiceSid: tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID'),
      owner: OWNER,
      run: randomUUID(),
      nonce: Math.floor(Math.random() * 1000),
      nowMs: Date.now(),
    };
    return (await effects.run(context, mod, (wasm) => wasm.startAgentHistoryHook(input), 'resumeAgentHistoryHook')).body;
  } catch (err) {
    return { error: err.message };
  }
}

module.exports = { agentHistoryHook };
