// `npm run deploy -- --studio`: the import-ready Studio flows in studio/ filled with this
// deployment's URLs and SIDs, checked with Studio's FlowValidate, then created or updated (by
// friendly name) through the Studio v2 API. See docs/direct-calls.md.
//
// A flow file is a Studio flow definition (Studio's "Import from JSON" takes it as it is, once the
// %%NAME%% placeholders are replaced by hand). The placeholders:
//   SERVICE_URL, SERVICE_SID, ENVIRONMENT_SID   this service's deployed environment (read from the
//                                               Serverless API: DEPLOY_ENVIRONMENT, default dev)
//   FUNCTION_SID_<PATH>                         each function's SID (/direct-extension ->
//                                               FUNCTION_SID_DIRECT_EXTENSION)
//   WORKFLOW_SID, VOICE_CHANNEL_SID             STUDIO_WORKFLOW_SID (WW…), STUDIO_VOICE_CHANNEL_SID (TC…)
//   SCHEDULE_NAME                               STUDIO_SCHEDULE_NAME (default Support)
//   MAX_ATTEMPTS                                STUDIO_MAX_ATTEMPTS (default 3): extension entries
//                                               before the IVR says goodbye
// Every flow is filled and validated before any is written: a missing value or an invalid flow
// stops the deploy with nothing changed in Studio.
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');
const { restClient } = require('./twilio-api');

const root = path.resolve(__dirname, '..');
const FLOWS = [
  { file: 'direct-extension-ivr.json', friendlyName: 'Direct extension IVR' },
  { file: 'business-hours.json', friendlyName: 'Business hours' },
];

const sidLike = (prefix, value) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`).test(String(value || '').trim());

/** The placeholder values from the environment and the deployed service. */
function studioParameters(env, { domain, serviceSid, environmentSid, functions }) {
  const problems = [];
  const wanted = (name, prefix) => {
    const v = String(env[name] || '').trim();
    if (!sidLike(prefix, v)) problems.push(`${name} must be a ${prefix}… SID (got ${JSON.stringify(v)})`);
    return v;
  };
  const params = {
    SERVICE_URL: `https://${domain}`,
    SERVICE_SID: serviceSid,
    ENVIRONMENT_SID: environmentSid,
    WORKFLOW_SID: wanted('STUDIO_WORKFLOW_SID', 'WW'),
    VOICE_CHANNEL_SID: wanted('STUDIO_VOICE_CHANNEL_SID', 'TC'),
    SCHEDULE_NAME: String(env.STUDIO_SCHEDULE_NAME || 'Support').trim(),
    MAX_ATTEMPTS: String(env.STUDIO_MAX_ATTEMPTS || '3').trim(),
  };
  if (!/^[1-9]$/.test(params.MAX_ATTEMPTS)) problems.push(`STUDIO_MAX_ATTEMPTS must be a whole number from 1 to 9 (got ${JSON.stringify(params.MAX_ATTEMPTS)})`);
  if (!params.SCHEDULE_NAME || /["\\{}%]/.test(params.SCHEDULE_NAME))
    problems.push(`STUDIO_SCHEDULE_NAME must be a schedule name without quotes, braces, % or backslashes (got ${JSON.stringify(params.SCHEDULE_NAME)})`);
  for (const f of functions)
    params[
      `FUNCTION_SID_${f.path
        .replace(/^\//, '')
        .replace(/[^A-Za-z0-9]+/g, '_')
        .toUpperCase()}`
    ] = f.sid;
  if (problems.length) throw new Error(`deploy --studio: ${problems.join('; ')}`);
  return params;
}

/** A flow file's definition with every %%NAME%% replaced; an unknown name is an error naming it. */
function fillFlow(text, params, file) {
  const missing = new Set();
  const filled = text.replace(/%%([A-Z0-9_]+)%%/g, (all, name) => {
    if (params[name] === undefined) missing.add(name);
    return params[name] === undefined ? all : String(params[name]).replace(/["\\]/g, '\\$&');
  });
  if (missing.size) throw new Error(`deploy --studio: ${file} uses ${[...missing].map((n) => `%%${n}%%`).join(', ')}, which nothing fills (is the function deployed?)`);
  return JSON.parse(filled);
}

/** The deployed environment of this service: domain, SIDs and every function's SID by path. */
async function deployedService(env) {
  const rc = JSON5.parse(fs.readFileSync(path.join(root, '.twilioserverlessrc'), 'utf8'));
  const serverless = restClient(env).serverless.v1.services;
  const service = (await serverless.list({ pageSize: 100 })).find((s) => s.uniqueName === rc.serviceName);
  if (!service) throw new Error(`deploy --studio: no Serverless service named ${rc.serviceName}; deploy the functions first`);
  const suffix = env.DEPLOY_ENVIRONMENT || 'dev';
  const environment = (await serverless(service.sid).environments.list({ pageSize: 100 })).find((e) => e.domainSuffix === suffix);
  if (!environment) throw new Error(`deploy --studio: service ${service.sid} has no ${suffix} environment`);
  const functions = (await serverless(service.sid).functions.list({ pageSize: 100 })).map((f) => ({ sid: f.sid, path: `/${f.friendlyName.replace(/^\//, '')}` }));
  return { domain: environment.domainName, serviceSid: service.sid, environmentSid: environment.sid, functions };
}

/**
 * Fills, validates, then creates or updates every flow. Answers [{friendlyName, sid, revision,
 * action: 'created' | 'updated'}]. `service` overrides the deployed-service lookup (tests).
 */
async function deployFlows(env, { log = console.log, service, status = env.STUDIO_FLOW_STATUS || 'published' } = {}) {
  if (!['draft', 'published'].includes(status)) throw new Error(`deploy --studio: STUDIO_FLOW_STATUS must be draft or published (got ${JSON.stringify(status)})`);
  const params = studioParameters(env, service || (await deployedService(env)));
  const flows = FLOWS.map(({ file, friendlyName }) => ({ friendlyName, definition: fillFlow(fs.readFileSync(path.join(root, 'studio', file), 'utf8'), params, `studio/${file}`) }));
  const studio = restClient(env).studio.v2.flows;
  for (const f of flows) {
    await restClient(env)
      .studio.v2.flowValidate.update({ friendlyName: f.friendlyName, status, definition: f.definition })
      .catch((err) => {
        const details = err.details && err.details.errors ? `: ${err.details.errors.map((e) => `${e.property_path} ${e.message}`).join('; ')}` : '';
        throw new Error(`deploy --studio: Studio refused "${f.friendlyName}" (${err.message})${details}`);
      });
  }
  const existing = await studio.list({ pageSize: 100 });
  const out = [];
  for (const f of flows) {
    const same = existing.filter((x) => x.friendlyName === f.friendlyName);
    if (same.length > 1) throw new Error(`deploy --studio: ${same.length} flows are named "${f.friendlyName}" (${same.map((x) => x.sid).join(', ')}); rename or delete all but one`);
    const commitMessage = `npm run deploy -- --studio (${new Date().toISOString()})`;
    const flow = same.length
      ? await studio(same[0].sid).update({ status, definition: f.definition, commitMessage })
      : await studio.create({ friendlyName: f.friendlyName, status, definition: f.definition, commitMessage });
    const action = same.length ? 'updated' : 'created';
    log(`deploy: ${action} Studio flow "${f.friendlyName}" ${flow.sid} (revision ${flow.revision}, ${flow.status})`);
    out.push({ friendlyName: f.friendlyName, sid: flow.sid, revision: flow.revision, action });
  }
  return out;
}

module.exports = { deployFlows, deployedService, studioParameters, fillFlow, FLOWS };
