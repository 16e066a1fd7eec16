// POST /admin/list (Schedule Manager plugin; any valid Flex token)
// The deployed config with each schedule's current status, its version (the deployed build's
// /config.json version, echoed back by update) and whether a newer change is waiting to be published.
const auth = require(Runtime.getFunctions()['common/auth'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const sls = require(Runtime.getFunctions()['common/serverless'].path);
const cfg = require(Runtime.getFunctions()['common/schedule-config'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);

exports.handler = handle(async (context, event) => {
  await auth.authorize(context, event, { kind: 'anyWorker' });
  const facts = await sls.facts(context, tw.twilioClient(context));
  const { version, versionIsDeployed } = callWasm(cfg.admin, (wasm) => wasm.listVersion(facts));
  const text = await cfg.runningText(context);
  return callWasm(cfg.admin, (wasm) => wasm.listBody(text, Date.now(), version, versionIsDeployed));
});
