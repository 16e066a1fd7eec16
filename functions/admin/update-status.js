// POST /admin/update-status (Schedule Manager plugin, form {buildSid, Token}; schedule admins)
// {success, buildStatus: building|completed|failed}; a build that does not exist (vanished, or of
// another service) is `failed`, since the plugin polls until completed or failed.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sls = require(Runtime.getFunctions()['common/serverless'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, HttpError, formFields } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'publishing schedules' });
  const { buildSid } = formFields(event, ['buildSid']);
  if (!buildSid) throw new HttpError(400, 'Missing buildSid: the build /admin/update answered', { parameter: 'buildSid' });
  const status = await sls.buildStatus(context, tw.twilioClient(context), buildSid);
  return callWasm(cfg.admin, (wasm) => wasm.statusReply(buildSid, status));
});
