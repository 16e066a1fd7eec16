// Agent history's event callback hook (docs/agent-history.md): crates/agent-history's machine
// (src/hook.rs) decides, common/effects performs.   agentHistoryHook(context, fields)  never throws
const { machines } = require(Runtime.getFunctions()['common/wasm'].path);

const agentHistory = machines('agent_history', 'agentHistorySettings', { resume: 'resumeAgentHistoryHook' });

const agentHistoryHook = (context, fields) => agentHistory.hook(context, (wasm, input) => wasm.startAgentHistoryHook(input), { event: fields });

module.exports = { agentHistoryHook };
