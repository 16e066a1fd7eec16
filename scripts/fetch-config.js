#!/usr/bin/env node
// `npm run fetch-config [-- --out <file>]`: writes the config the deployed service runs with (what
// admins published from Flex) to assets/config.private.json, so a CLI deploy never wipes their
// edits. `npm run deploy` runs this first.
//
// It finds the service by the name in .twilioserverlessrc and its environment (DEPLOY_ENVIRONMENT,
// default `dev`, as the Serverless Toolkit names it), then calls https://<domain>/admin/fetch-config
// with the credentials in an Authorization header (never in the URL). Nothing to fetch (no service,
// no environment, nothing deployed, or a service older than /admin/fetch-config) keeps the local
// file; any other failure stops with an error. FUNCTIONS_ORIGIN overrides https://<domain> (for a
// local runtime in tests); against the emulator (TWILIO_API_ORIGIN) the default is `npm start`'s
// http://localhost:<PORT or 3000>, and nothing answering there keeps the local file.
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');
const { credentials, origin: apiOrigin, restClient } = require('./twilio-api');

const root = path.resolve(__dirname, '..');

/** The non-empty values of `.env`. */
function readDotEnv() {
  const file = path.join(root, '.env');
  const vars = {};
  if (!fs.existsSync(file)) return vars;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m && m[2] !== '') vars[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

/** `.env` values, overridden by the process environment. */
function loadEnv() {
  const vars = readDotEnv();
  for (const [k, v] of Object.entries(process.env)) if (v !== '') vars[k] = v;
  return vars;
}

function serviceName() {
  return JSON5.parse(fs.readFileSync(path.join(root, '.twilioserverlessrc'), 'utf8')).serviceName;
}

/** Fetches the live config into `out`; answers {written, reason}. */
async function fetchLiveConfig({ env = loadEnv(), out = path.join(root, 'assets', 'config.private.json'), log = console.log } = {}) {
  const creds = credentials(env);
  const api = restClient(env).serverless.v1;
  const name = serviceName();
  const service = (await api.services.list({ pageSize: 100 })).find((s) => s.uniqueName === name);
  if (!service) return { written: false, reason: `no service named ${name} yet` };
  const suffix = env.DEPLOY_ENVIRONMENT || 'dev';
  const environment = (await api.services(service.sid).environments.list()).find((e) => e.domainSuffix === suffix || e.uniqueName === suffix);
  if (!environment) return { written: false, reason: `service ${name} has no ${suffix} environment yet` };
  if (!environment.buildSid) return { written: false, reason: `nothing is deployed to ${environment.uniqueName} yet` };

  // Against the emulator (TWILIO_API_ORIGIN) the deployment's functions are the ones `npm start`
  // serves on localhost (PORT, default 3000): nothing to fetch when it is not running.
  const emulated = Boolean(apiOrigin(env));
  const origin = env.FUNCTIONS_ORIGIN ? env.FUNCTIONS_ORIGIN.replace(/\/+$/, '') : emulated ? `http://localhost:${env.PORT || 3000}` : `https://${environment.domainName}`;
  let res;
  try {
    res = await fetch(`${origin}/admin/fetch-config`, {
      headers: { Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` },
      signal: AbortSignal.timeout(20000),
    });
  } catch (err) {
    if (emulated && !env.FUNCTIONS_ORIGIN)
      return { written: false, reason: `nothing answers at ${origin} (the emulator's deployment is served by \`npm start\`; start it, or set FUNCTIONS_ORIGIN to where its functions run)` };
    throw err;
  }
  if (res.status === 404) return { written: false, reason: `${origin} has no /admin/fetch-config (deployed before it existed)` };
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`fetch-config: ${origin}/admin/fetch-config answered HTTP ${res.status} without JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new Error(`fetch-config: ${origin}/admin/fetch-config answered HTTP ${res.status}: ${body.error || text}`);
  fs.writeFileSync(out, `${JSON.stringify(body, null, 2)}\n`);
  log(`fetch-config: wrote the config deployed to ${environment.domainName} to ${path.relative(root, out)}`);
  return { written: true, reason: 'fetched' };
}

if (require.main === module) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? path.resolve(process.argv[i + 1]) : undefined;
  fetchLiveConfig({ out })
    .then((r) => {
      if (!r.written) console.log(`fetch-config: keeping the local config (${r.reason})`);
    })
    .catch((err) => {
      console.error(err.message);
      process.exit(1);
    });
}

module.exports = { fetchLiveConfig, loadEnv, readDotEnv, serviceName };
