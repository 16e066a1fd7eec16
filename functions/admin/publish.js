// POST /admin/publish (Schedule Manager plugin, form {buildSid, Token}; schedule admins)
// Deploys the build to this environment only if it is a completed config build of this service
// and environment, newer than the deployed one and first in line (crates/schedule publishing.rs);
// anything else is a 409 naming why. Answers {success, deploymentSid}.
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
  const client = tw.twilioClient(context);
  const facts = await sls.facts(context, client);
  const check = callWasm(cfg.admin, (wasm) => wasm.publishCheck(facts, buildSid));
  if (!check.ok) return check;
  const deployment = await sls.deploy(context, client, buildSid);
  return { status: 200, body: { success: true, deploymentSid: deployment.sid } };
});
