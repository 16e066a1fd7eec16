// GET /queue-history — hourly queue figures kept beyond TaskRouter's 30 days, grouped for charts.
// Supervisors and admins (Flex token) or the wallboard (`Authorization: Wallboard <key>`).
// Parameters: queue (a TaskQueue SID, several separated by commas, or all), channel (all or a
// channel of QUEUE_STATS_CHANNELS), range (today, yesterday, last7, last30) or from/to (date,
// wall time down to the hour, or instant), by (hour, hourOfDay, dayOfWeek, date, queue), backfill
// (true, default; false: only the stored hours, at once, the others `pending`).
// crates/history-machines' series machine validates (400 naming the parameter, 500 naming a
// missing or contradicting setting, the workspace and Flex's Sync service included), reads Sync,
// backfills missing hours from TaskRouter and aggregates; common/effects performs its requests.
// See docs/queue-history.md.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);
const { historySeries } = require(Runtime.getFunctions()['common/history-hook'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'supervise', wallboardKey: true });
  const params = formFields(event, ['queue', 'channel', 'from', 'to', 'range', 'by', 'backfill']);
  return historySeries(context, params);
});
