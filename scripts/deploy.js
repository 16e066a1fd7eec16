#!/usr/bin/env node
// `npm run deploy [-- <twilio-run deploy options>]`:
//   1. fetch the live config first (scripts/fetch-config.js), so admins' edits made from Flex are
//      kept (`--no-fetch-config` skips this);
//   2. build (validates that config too) and refuse to go on if any wasm module or glue is missing;
//      make sure the wallboard's Sync service exists with ACL on (ensureBoardService) and deploy its
//      SID as WALLBOARD_SYNC_SID;
//   3. deploy: with TWILIO_API_ORIGIN set (the emulator), through the Serverless Toolkit's client
//      (@twilio-labs/serverless-api, the library `twilio serverless:deploy` runs) aimed at that
//      origin; otherwise with `twilio-run deploy --override-existing-project` to Twilio;
//   4. with `--studio`, fill, validate and create or update the Studio flows of studio/
//      (scripts/studio-flows.js, docs/direct-calls.md).
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');
const { fetchLiveConfig, loadEnv, readDotEnv } = require('./fetch-config');
const { credentials, origin, restClient, serverlessClient } = require('./twilio-api');
const { deployFlows } = require('./studio-flows');

const root = path.resolve(__dirname, '..');

/** Files a deploy needs that only the build makes: every crate's wasm and glue. */
function missingBuildOutputs() {
  return fs
    .readdirSync(path.join(root, 'crates'))
    .filter((dir) => fs.existsSync(path.join(root, 'crates', dir, 'src', 'wasm.rs')))
    .map((dir) => dir.replace(/-/g, '_'))
    .flatMap((name) => [`assets/wasm/${name}_bg.private.wasm`, `functions/wasm/${name}.private.js`])
    .filter((file) => !fs.existsSync(path.join(root, file)));
}

// Settings of the scripts and of local runs, never deployed as the service's variables.
const SCRIPT_ONLY = [
  'TWILIO_API_ORIGIN',
  'TWILIO_API_KEY',
  'TWILIO_API_SECRET',
  'DEPLOY_ENVIRONMENT',
  'FUNCTIONS_ORIGIN',
  'FLEX_CC_SKIP_PREPARE',
  'STUDIO_WORKFLOW_SID',
  'STUDIO_VOICE_CHANNEL_SID',
  'STUDIO_SCHEDULE_NAME',
  'STUDIO_MAX_ATTEMPTS',
  'STUDIO_FLOW_STATUS',
];

/** The service's variables: .env without the scripts' own settings, plus `extra`. */
function serviceVariables(extra = {}) {
  const vars = readDotEnv();
  for (const k of SCRIPT_ONLY) delete vars[k];
  return { ...vars, ...extra };
}

// The wallboard's own Sync service (docs/wallboard.md): board tokens read it and nothing else.
const BOARD_SERVICE_NAME = 'Flex wallboard statistics';

/**
 * Makes sure the wallboard's statistics Sync service exists with ACL on, and answers its SID:
 * WALLBOARD_SYNC_SID when set, else the service named `name`, else a new one. A service found with
 * ACL off gets it switched on. Running it again changes nothing (idempotent).
 */
async function ensureBoardService(env, { name = BOARD_SERVICE_NAME, log = console.log } = {}) {
  const sync = restClient(env).sync.v1.services;
  const given = env.WALLBOARD_SYNC_SID ? String(env.WALLBOARD_SYNC_SID).trim() : '';
  for (const other of ['TWILIO_FLEX_SYNC_SID', 'SYNC_SERVICE_SID']) {
    if (given && env[other] === given) throw new Error(`deploy: WALLBOARD_SYNC_SID is ${other}'s service; the wallboard needs a service of its own (unset it and deploy creates one)`);
  }
  let service = given ? await sync(given).fetch() : (await sync.list({ pageSize: 100 })).find((s) => s.friendlyName === name);
  if (!service) {
    service = await sync.create({ friendlyName: name, aclEnabled: true });
    log(`deploy: created the wallboard's Sync service ${service.sid} ("${name}", ACL on)`);
  } else if (!service.aclEnabled) {
    service = await sync(service.sid).update({ aclEnabled: true });
    log(`deploy: switched ACL on for the wallboard's Sync service ${service.sid}`);
  }
  return service.sid;
}

/**
 * The env file twilio-run deploys from: the service's variables, plus the deploy's credentials
 * where twilio-run reads them (ACCOUNT_SID/AUTH_TOKEN, which it never deploys as variables):
 * TWILIO_API_KEY/TWILIO_API_SECRET when set (an auth token is then not needed), else the account's.
 */
function twilioRunEnv(env, extraVars = {}) {
  const { username, password } = credentials(env);
  return { ...serviceVariables(extraVars), ACCOUNT_SID: username, AUTH_TOKEN: password };
}

/** twilio-run's region flags from TWILIO_REGION/TWILIO_EDGE (the Serverless API host follows them). */
function regionFlags(env) {
  return [...(env.TWILIO_REGION ? ['--region', String(env.TWILIO_REGION).trim()] : []), ...(env.TWILIO_EDGE ? ['--edge', String(env.TWILIO_EDGE).trim()] : [])];
}

/** Deploys this checkout with the Serverless Toolkit's client to `env`'s account (or emulator). */
async function deployProject(env, { log = console.log, extraVars = {} } = {}) {
  const rc = JSON5.parse(fs.readFileSync(path.join(root, '.twilioserverlessrc'), 'utf8'));
  const vars = serviceVariables(extraVars);
  delete vars.ACCOUNT_SID;
  delete vars.AUTH_TOKEN;
  const client = serverlessClient(env);
  client.on('status-update', (e) => log(`deploy: ${e.message}`));
  return client.deployLocalProject({
    cwd: root,
    serviceName: rc.serviceName,
    functionsEnv: env.DEPLOY_ENVIRONMENT || 'dev',
    env: vars,
    pkgJson: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')),
    runtime: rc.runtime,
    overrideExistingService: true,
    functionsFolderName: rc.functionsFolder,
    assetsFolderName: rc.assetsFolder,
  });
}

async function main(args) {
  const env = loadEnv();
  if (!args.includes('--no-fetch-config')) {
    const r = await fetchLiveConfig({ env });
    if (!r.written) console.log(`deploy: keeping the local config (${r.reason})`);
  }
  execFileSync('node', [path.join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit' });
  const missing = missingBuildOutputs();
  if (missing.length) throw new Error(`deploy: the build did not produce ${missing.join(', ')}; refusing to deploy functions without their wasm`);
  const extraVars = { WALLBOARD_SYNC_SID: await ensureBoardService(env) };
  if (origin(env)) {
    const r = await deployProject(env, { extraVars });
    console.log(`deploy: deployed build ${r.buildSid} (${r.runtime}) of ${r.serviceSid} to ${r.environmentSid} at ${origin(env)}`);
    if (args.includes('--studio')) await deployFlows(env);
    return;
  }
  // twilio-run deploys every variable of its env file (but the credentials): give it .env without
  // the scripts' own settings (an API secret must not become a service variable).
  const envFile = path.join(root, 'target', 'deploy.env');
  fs.mkdirSync(path.dirname(envFile), { recursive: true });
  fs.writeFileSync(
    envFile,
    Object.entries(twilioRunEnv(env, extraVars))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n'),
    { mode: 0o600 },
  );
  const passthrough = args.filter((a) => a !== '--no-fetch-config' && a !== '--studio');
  const r = spawnSync(path.join(root, 'node_modules', '.bin', 'twilio-run'), ['deploy', '--override-existing-project', '--env', path.relative(root, envFile), ...regionFlags(env), ...passthrough], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status || 1);
  if (args.includes('--studio')) await deployFlows(env);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}

module.exports = { deployProject, ensureBoardService, missingBuildOutputs, serviceVariables, twilioRunEnv, regionFlags, BOARD_SERVICE_NAME };
