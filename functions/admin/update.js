// POST /admin/update (Schedule Manager plugin, JSON body {data, version, Token}; schedule admins)
// Validates `data` (400 naming every problem, nothing uploaded), refuses a stale version or a change
// waiting to be published (409), uploads the config and builds it with everything else of the
// deployed build; answers {success, buildSid} without waiting for the build (after making sure no
// build made at the same moment goes first: 409 concurrent_update). The machine, with every rule,
// is crates/schedule-admin's (machine.rs, on schedule's publishing rules).
const auth = require(Runtime.getFunctions()['common/auth'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { handle, formFields } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'publishing schedules' });
  const { data, version } = formFields(event, ['data', 'version']);
  return effects.run(context, cfg.admin, (wasm) => wasm.startAdminUpdate(cfg.serverlessEnv(context), data, version));
});
