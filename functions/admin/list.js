// POST /admin/list (Schedule Manager plugin; any valid Flex token)
// The deployed config with each schedule's current status, its version (the deployed build's
// /config.json version, echoed back by update) and whether a newer change is waiting to be
// published. The machine is crates/schedule-admin's (machine.rs); common/effects makes its requests.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'anyWorker' });
  const env = cfg.serverlessEnv(context);
  const text = await cfg.runningText(context);
  return effects.run(context, cfg.admin, (wasm) => wasm.startAdminList(env, text));
});
