// POST /admin/publish (Schedule Manager plugin, form {buildSid, Token}; schedule admins)
// Deploys the build to this environment only if it is a completed config build of this service
// and environment, newer than the deployed one and first in line; anything else is a 409 naming
// why. Answers {success, deploymentSid}. The machine is crates/schedule-admin's (machine.rs).
const auth = require(Runtime.getFunctions()['common/auth'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'publishing schedules' });
  const { buildSid } = formFields(event, ['buildSid']);
  return effects.run(context, cfg.admin, (wasm) => wasm.startAdminPublish(cfg.serverlessEnv(context), buildSid));
});
