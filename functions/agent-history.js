// GET /agent-history — per agent and hour: time in each activity, reservations, tasks, handle and
// wrap-up time, dispositions, kept in Sync by the event callback's hook (docs/agent-history.md).
// Supervisors and admins (Flex token: names and SIDs) or the wallboard (`Authorization: Wallboard
// <key>`: aggregates only — `agent` all or team:<name>, no by=agent — unless
// AGENT_HISTORY_KEY_SEES_NAMES is true). Parameters: agent (a Worker SID, several separated by
// commas, all, or team:<name>), range (today, yesterday, last7, last30) or from/to, by (hour, date,
// dayOfWeek, agent, activity, disposition). The read is crates/agent-history's machine
// (`startAgentHistory`: 400/403 naming the parameter, what to list, the answer), performed by
// common/effects.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);

const machines = wasmModule('agent_history');

exports.handler = handle(async (context, event) => {
  const grant = await auth.authorize(context, event, { kind: 'supervise', wallboardKey: true });
  const env = machines.settings(context, 'agentHistorySettings'); // the services among them: a missing one is a 500 naming it
  const settings = { names: grant.via !== 'wallboardKey' };
  const params = formFields(event, ['agent', 'from', 'to', 'range', 'by']);
  // Outcomes as JSON text: the listed items (megabytes) are parsed once, by the machine.
  return effects.run(context, machines, (wasm) => wasm.startAgentHistory(params, env, settings, Date.now()), { text: true });
});
