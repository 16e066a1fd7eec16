// POST /admin/preview (same body as /admin/update, plus optional `name` and `days`; schedule admins)
// The validation problems of `data` (400), or per schedule the open and closed intervals over the
// next `days` days (default 14, at most 62) with their reasons and deciding rules. Without `data`,
// the running config is previewed. Nothing is stored.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'previewing schedules' });
  const { data, name, days } = formFields(event, ['data', 'name', 'days']);
  const config = data || (await cfg.runningText(context));
  return callWasm(cfg.admin, (wasm) => wasm.previewReply(config, name, Date.now(), days));
});
