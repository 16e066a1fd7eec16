// POST /admin/update-status (Schedule Manager plugin, form {buildSid, Token}; schedule admins)
// {success, buildStatus: building|completed|failed}; a build that does not exist (vanished, or of
// another service) is `failed`, since the plugin polls until completed or failed. The machine is
// crates/schedule-admin's (machine.rs).
const auth = require(Runtime.getFunctions()['common/auth'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'publishing schedules' });
  const { buildSid } = formFields(event, ['buildSid']);
  return effects.run(context, cfg.admin, (wasm) => wasm.startAdminUpdateStatus(cfg.serverlessEnv(context), buildSid));
});
