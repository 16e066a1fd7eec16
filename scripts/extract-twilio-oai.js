#!/usr/bin/env node
// Regenerates emulator/twilio-oai.json, the compact extract of Twilio's OpenAPI definitions that
// the emulator enforces (emulator/openapi.js, docs/emulator.md), from a checkout of
// https://github.com/twilio/twilio-oai. It never downloads anything: give it the checkout.
//
//   git clone https://github.com/twilio/twilio-oai /tmp/twilio-oai
//   node scripts/extract-twilio-oai.js /tmp/twilio-oai [--commit <sha>]
//
// The commit is read with `git rev-parse HEAD` in the checkout unless given. The extract keeps,
// for every path in USED (all of that path's methods), the parameters each operation declares:
// name, where (path, query, form), type, minimum, maximum, required. To let the bundle call a new
// operation, add its path here, rerun, and commit the new extract with the code that calls it.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

// Spec file (spec/json/twilio_<file>.json) -> the paths the bundle, its scripts and tests use.
const USED = {
  api_v2010: [
    '/2010-04-01/Accounts/{AccountSid}/Calls.json',
    '/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json',
    '/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json', // voicemail: fetch, delete
  ],
  taskrouter_v1: [
    '/v1/Workspaces/{WorkspaceSid}/Activities', // agent history names a worker's previous activity (its SID)
    '/v1/Workspaces/{WorkspaceSid}/Events',
    '/v1/Workspaces/{WorkspaceSid}/Tasks',
    '/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}',
    '/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations',
    '/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues/{Sid}',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues/RealTimeStatistics',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues/Statistics',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/CumulativeStatistics',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/RealTimeStatistics',
    '/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/Statistics',
    '/v1/Workspaces/{WorkspaceSid}/Workers',
    '/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}',
    '/v1/Workspaces/{WorkspaceSid}/Workers/CumulativeStatistics',
    '/v1/Workspaces/{WorkspaceSid}/Workers/RealTimeStatistics',
    '/v1/Workspaces/{WorkspaceSid}/Workers/Statistics',
    '/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Statistics',
    '/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels',
    '/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels/{Sid}',
  ],
  sync_v1: [
    '/v1/Services',
    '/v1/Services/{Sid}',
    '/v1/Services/{ServiceSid}/Documents',
    '/v1/Services/{ServiceSid}/Documents/{Sid}',
    '/v1/Services/{ServiceSid}/Documents/{DocumentSid}/Permissions',
    '/v1/Services/{ServiceSid}/Documents/{DocumentSid}/Permissions/{Identity}',
    '/v1/Services/{ServiceSid}/Maps',
    '/v1/Services/{ServiceSid}/Maps/{Sid}',
    '/v1/Services/{ServiceSid}/Maps/{MapSid}/Items',
    '/v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}',
    '/v1/Services/{ServiceSid}/Maps/{MapSid}/Permissions',
    '/v1/Services/{ServiceSid}/Maps/{MapSid}/Permissions/{Identity}',
    '/v1/Services/{ServiceSid}/Streams', // tests/emulator.test.js plugs a Streams area in
  ],
  serverless_v1: [
    '/v1/Services',
    '/v1/Services/{Sid}',
    '/v1/Services/{ServiceSid}/Environments',
    '/v1/Services/{ServiceSid}/Environments/{Sid}',
    '/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables',
    '/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables/{Sid}',
    '/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments',
    '/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments/{Sid}',
    '/v1/Services/{ServiceSid}/Functions',
    '/v1/Services/{ServiceSid}/Functions/{Sid}',
    '/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions',
    '/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions/{Sid}',
    '/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions/{Sid}/Content',
    '/v1/Services/{ServiceSid}/Assets',
    '/v1/Services/{ServiceSid}/Assets/{Sid}',
    '/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions',
    '/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions/{Sid}',
    '/v1/Services/{ServiceSid}/Builds',
    '/v1/Services/{ServiceSid}/Builds/{Sid}',
    '/v1/Services/{ServiceSid}/Builds/{Sid}/Status',
  ],
  // Studio flows: `npm run deploy -- --studio` (scripts/studio-flows.js) and the emulator's studio.js.
  studio_v2: ['/v2/Flows', '/v2/Flows/{Sid}', '/v2/Flows/{Sid}/Revisions', '/v2/Flows/{Sid}/Revisions/{Revision}', '/v2/Flows/Validate'],
};

const METHODS = ['get', 'post', 'delete'];

function resolve(spec, schema) {
  let s = schema || {};
  for (let i = 0; i < 5 && s.$ref; i += 1) {
    const parts = s.$ref.replace(/^#\//, '').split('/');
    s = parts.reduce((node, key) => (node ? node[key] : undefined), spec) || {};
  }
  return s;
}

function param(spec, name, schema, required) {
  const s = resolve(spec, schema);
  const out = { name };
  const type = s.type || (Array.isArray(s.enum) ? 'string' : undefined);
  if (type) out.type = type;
  if (type === 'array' && s.items) {
    const items = resolve(spec, s.items);
    if (items.type) out.items = items.type;
  }
  for (const key of ['minimum', 'maximum']) if (typeof s[key] === 'number') out[key] = s[key];
  if (required) out.required = true;
  return out;
}

function operation(spec, op) {
  const out = { id: op.operationId };
  const query = [];
  for (const raw of op.parameters || []) {
    const p = raw.$ref ? resolve(spec, raw) : raw;
    if (p.in === 'query') query.push(param(spec, p.name, p.schema, p.required));
  }
  if (query.length) out.query = query;
  const content = (op.requestBody && op.requestBody.content) || {};
  const body = content['application/x-www-form-urlencoded'] || content['application/json'];
  if (body) {
    const schema = resolve(spec, body.schema);
    const required = new Set(schema.required || []);
    out.form = Object.entries(schema.properties || {}).map(([name, s]) => param(spec, name, s, required.has(name)));
    if (!content['application/x-www-form-urlencoded']) out.encoding = 'json';
  }
  return out;
}

function main(argv) {
  const args = argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const commitAt = args.indexOf('--commit');
  if (!dir) {
    console.error('usage: node scripts/extract-twilio-oai.js <twilio-oai checkout> [--commit <sha>] [--out <file>]');
    process.exit(2);
  }
  let commit = commitAt >= 0 ? args[commitAt + 1] : null;
  if (!commit) commit = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const outAt = args.indexOf('--out');
  const outFile = outAt >= 0 ? args[outAt + 1] : path.join(__dirname, '..', 'emulator', 'twilio-oai.json');

  const products = {};
  for (const [file, paths] of Object.entries(USED)) {
    const specFile = path.join(dir, 'spec', 'json', `twilio_${file}.json`);
    const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
    const server = ((spec.servers || [])[0] || {}).url;
    const version = spec.info && spec.info.version;
    const ops = {};
    for (const p of paths) {
      const item = spec.paths[p];
      if (!item) throw new Error(`${specFile} has no path ${p}: update USED in ${path.basename(__filename)}`);
      const host = new URL(((item.servers || [])[0] || {}).url || server).host;
      const methods = {};
      for (const m of METHODS) if (item[m]) methods[m.toUpperCase()] = operation(spec, item[m]);
      ops[p] = { host, methods };
    }
    products[file] = { file: `spec/json/twilio_${file}.json`, specVersion: version, paths: ops };
  }
  const extract = {
    source: { repository: 'https://github.com/twilio/twilio-oai', commit, generatedBy: 'scripts/extract-twilio-oai.js' },
    products,
  };
  fs.writeFileSync(outFile, `${JSON.stringify(extract, null, 1)}\n`);
  const count = Object.values(products).reduce((n, p) => n + Object.values(p.paths).reduce((k, q) => k + Object.keys(q.methods).length, 0), 0);
  console.log(`${outFile}: ${count} operations from twilio-oai ${commit}`);
}

if (require.main === module) main(process.argv);
module.exports = { USED };
