// GET /agent-history — per agent and hour: time in each activity, reservations, tasks, handle and
// wrap-up time, dispositions, kept in Sync by the event callback's hook (docs/agent-history.md).
// Supervisors and admins (Flex token: names and SIDs) or the wallboard (`Authorization: Wallboard
// <key>`: aggregates only — `agent` all or team:<name>, no by=agent — unless
// AGENT_HISTORY_KEY_SEES_NAMES is true). Parameters: agent (a Worker SID, several separated by
// commas, all, or team:<name>), range (today, yesterday, last7, last30) or from/to, by (hour, date,
// dayOfWeek, agent, activity, disposition). The agent-history module validates (400 naming the
// parameter) and aggregates; common/agent-history reads Sync.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { agentHistoryFor } = require(Runtime.getFunctions()['common/agent-history'].path);

exports.handler = handle(async (context, event) => {
  const grant = await auth.authorize(context, event, { kind: 'supervise', wallboardKey: true });
  tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID');
  const params = formFields(event, ['agent', 'from', 'to', 'range', 'by']);
  const names = grant.via !== 'wallboardKey';
  return { status: 200, body: await agentHistoryFor(context).series(params, { names }) };
});
