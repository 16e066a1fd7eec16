// The Serverless API chores of the schedule admin functions: the service edits itself
// (SERVICE_SID / ENVIRONMENT_SID: the service and environment the function runs in).
//
//   const sls = require(Runtime.getFunctions()['common/serverless'].path);
//   const facts = await sls.facts(context, client);   // what crates/schedule's publishing rules read
//   const asset = await sls.configAsset(context, client);                  // this environment's config asset
//   const versionSid = await sls.uploadConfig(context, asset.sid, text);   // multipart, upload host
//
// Every request has the invocation's timeout and goes to TWILIO_API_ORIGIN when set (common/client).
const tw = require(Runtime.getFunctions()['common/client'].path);
const { HttpError } = require(Runtime.getFunctions()['common/http'].path);
const { requestTimeoutMs } = require(Runtime.getFunctions()['common/deadline'].path);

// Plain JSON (ISO dates, raw nested version objects) for the wasm face.
const plain = (x) => JSON.parse(JSON.stringify(x));
const service = (context, client) => client.serverless.v1.services(tw.requireEnv(context, 'SERVICE_SID'));
const environmentSid = (context) => tw.requireEnv(context, 'ENVIRONMENT_SID');

/** The friendly name of the Asset holding this environment's admin-made config versions. */
const configAssetName = (context) => `schedule-config ${environmentSid(context)}`;

async function call(context, what, fn) {
  try {
    return await tw.withRetry(context, fn);
  } catch (err) {
    throw tw.twilioFailure(what, err);
  }
}

/** The environment's config asset (earliest if two were created at once), or null. */
async function findConfigAsset(context, client) {
  const assets = await call(context, 'Listing the assets', () => service(context, client).assets.list({ pageSize: 100 }));
  const mine = assets.filter((a) => a.friendlyName === configAssetName(context));
  mine.sort((a, b) => a.dateCreated - b.dateCreated || (a.sid < b.sid ? -1 : 1));
  return mine[0] || null;
}

/** Facts for crates/schedule's publishing rules: deployed build, deployments, builds, config asset. */
async function facts(context, client) {
  const svc = service(context, client);
  const env = await call(context, 'Reading the environment', () => svc.environments(environmentSid(context)).fetch());
  if (!env.buildSid) {
    throw new HttpError(409, `Environment ${env.sid} has no deployed build yet: deploy the service first (npm run deploy).`, { code: 'nothing_deployed' });
  }
  const [deployed, deployments, builds, asset] = await Promise.all([
    call(context, 'Reading the deployed build', () => svc.builds(env.buildSid).fetch()),
    call(context, 'Listing the deployments', () => svc.environments(env.sid).deployments.list({ pageSize: 100 })),
    call(context, 'Listing the builds', () => svc.builds.list({ pageSize: 100 })),
    findConfigAsset(context, client),
  ]);
  return { configAssetSid: asset ? asset.sid : null, deployed: plain(deployed), deployments: plain(deployments), builds: plain(builds), nowMs: Date.now() };
}

/** This environment's config asset, created on first use. */
async function configAsset(context, client) {
  const found = await findConfigAsset(context, client);
  if (found) return found;
  await call(context, 'Creating the config asset', () => service(context, client).assets.create({ friendlyName: configAssetName(context) }));
  return findConfigAsset(context, client); // the earliest, should another update have made one too
}

/** Uploads `text` as a new private /config.json version of `assetSid`; answers the version SID. */
async function uploadConfig(context, assetSid, text) {
  const serviceSid = tw.requireEnv(context, 'SERVICE_SID');
  const accountSid = tw.requireEnv(context, 'ACCOUNT_SID');
  const authToken = tw.requireEnv(context, 'AUTH_TOKEN');
  const url = `https://serverless-upload.twilio.com/v1/Services/${serviceSid}/Assets/${assetSid}/Versions`;
  const { uri, headers } = tw.route(tw.apiOrigin(context), url);
  const form = new FormData();
  form.append('Path', '/config.json');
  form.append('Visibility', 'private');
  form.append('Content', new Blob([text], { type: 'application/json' }), 'config.json');
  const res = await call(context, 'Uploading the config', async () => {
    const r = await fetch(uri, {
      method: 'POST',
      headers: { ...headers, Authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
      body: form,
      signal: AbortSignal.timeout(requestTimeoutMs()),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw Object.assign(new Error(body.message || `HTTP ${r.status}`), { status: r.status, code: body.code });
    return body;
  });
  if (!res.sid) throw new HttpError(502, 'Uploading the config failed: the answer has no version SID');
  return res.sid;
}

/** Creates the build `spec` (function and asset version SIDs, dependencies JSON, runtime). */
function createBuild(context, client, spec) {
  return call(context, 'Creating the build', () =>
    service(context, client).builds.create({
      functionVersions: spec.functionVersions,
      assetVersions: spec.assetVersions,
      dependencies: spec.dependencies,
      ...(spec.runtime ? { runtime: spec.runtime } : {}),
    }),
  );
}

/** Removes a build nobody will publish (best effort: an abandoned build also expires). */
async function removeBuild(context, client, sid) {
  try {
    await tw.withRetry(context, () => service(context, client).builds(sid).remove());
  } catch (err) {
    console.warn(`Could not remove build ${sid}: ${err.message}`);
  }
}

/** The build's status, or null if it does not exist in this service. */
async function buildStatus(context, client, sid) {
  try {
    return (await tw.withRetry(context, () => service(context, client).builds(sid).buildStatus().fetch())).status;
  } catch (err) {
    if (err && (err.status === 404 || err.status === 400)) return null;
    throw tw.twilioFailure('Reading the build status', err);
  }
}

function deploy(context, client, buildSid) {
  return call(context, 'Deploying the build', () => service(context, client).environments(environmentSid(context)).deployments.create({ buildSid }));
}

module.exports = { facts, configAsset, uploadConfig, createBuild, removeBuild, buildStatus, deploy, configAssetName };
