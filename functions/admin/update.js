// POST /admin/update (Schedule Manager plugin, JSON body {data, version, Token}; schedule admins)
// Validates `data` (400 naming every problem, nothing uploaded), refuses a stale version or a change
// waiting to be published (409), uploads the config and builds it with everything else of the
// deployed build; answers {success, buildSid} without waiting for the build. The rules are in
// crates/schedule (admin.rs, publishing.rs).
const auth = require(Runtime.getFunctions()['common/auth'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sls = require(Runtime.getFunctions()['common/serverless'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle, HttpError, formFields } = require(Runtime.getFunctions()['common/http'].path);

const rule = (fn) => callWasm(cfg.admin, fn);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'roles', roles: context.SCHEDULE_ADMIN_ROLES, purpose: 'publishing schedules' });
  const { data, version } = formFields(event, ['data', 'version']);
  if (!data) throw new HttpError(400, 'Missing data: the schedule configuration {rules, schedules}', { parameter: 'data' });
  if (!version) throw new HttpError(400, 'Missing version: the version /admin/list answered', { parameter: 'version' });
  const prepared = rule((wasm) => wasm.prepareUpdate(data));
  if (!prepared.ok) return prepared;

  const client = tw.twilioClient(context);
  const facts = await sls.facts(context, client);
  const plan = rule((wasm) => wasm.updatePlan(facts, version));
  if (!plan.ok) return plan;

  const asset = await sls.configAsset(context, client);
  const versionSid = await sls.uploadConfig(context, asset.sid, prepared.config);
  const build = await sls.createBuild(context, client, { ...plan.value, assetVersions: [...plan.value.assetVersions, versionSid] });
  // Two updates at the same time both get here; the earliest build goes first, the other is a 409
  // (asked again until every build made in the same second is surely listed).
  for (let asked = 0; asked < 3; asked += 1) {
    const now = await sls.facts(context, client);
    const after = rule((wasm) => wasm.afterCreate(now, build.sid));
    if (!after.ok) {
      await sls.removeBuild(context, client, build.sid);
      return after;
    }
    if (after.value.waitMs === 0) break;
    await new Promise((resolve) => setTimeout(resolve, after.value.waitMs));
  }
  return { status: 200, body: { success: true, buildSid: build.sid } };
});
