// Agent history's event callback hook (docs/agent-history.md): crates/agent-history's machine
// `startAgentHistoryHook` (src/hook.rs) decides everything (its settings and services, the event's
// record, when it is written, pruning, which hour to close and how); common/effects performs.
// What this container remembers between events is the wasm instance's, under its owner id.
//
//   await agentHistoryHook(context, fields)  // never throws: the machine's summary | {off: true} | {error}
const { machines } = require(Runtime.getFunctions()['common/wasm'].path);

const agentHistory = machines('agent_history', 'agentHistorySettings', { resume: 'resumeAgentHistoryHook' });

const agentHistoryHook = (context, fields) => agentHistory.hook(context, (wasm, input) => wasm.startAgentHistoryHook(input), { event: fields });

module.exports = { agentHistoryHook };
