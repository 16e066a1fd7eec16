// What a deploy would upload, listed with the Serverless Toolkit's own function (the one
// `twilio serverless:deploy` and `npm run deploy` use), and with which visibility. Anything that
// is not on the list below (a stray pkg/ file, a .d.ts, a source map, a dotfile) fails the test.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const JSON5 = require('json5');
const { utils } = require('@twilio-labs/serverless-api');
const { root } = require('./helpers/runtime');

const rc = JSON5.parse(fs.readFileSync(path.join(root, '.twilioserverlessrc'), 'utf8'));

const ASSET_RULES = [
  { what: 'wasm module', pattern: /^\/wasm\/[a-z_]+_bg\.wasm$/, access: 'private' },
  { what: 'schedule config', pattern: /^\/config\.json$/, access: 'private' },
  { what: 'hold music', pattern: /^\/[\w-]+\.mp3$/, access: 'public' },
  { what: 'page', pattern: /^\/[\w/-]+\.(html|css|js|svg|png|ico)$/, access: 'public' },
  { what: 'wallboard thresholds', pattern: /^\/wallboard\/config\.json$/, access: 'public' },
  { what: 'page wasm (a crate with a browser face)', pattern: /^\/[\w-]+\/wasm\/[a-z_]+_bg\.wasm$/, access: 'public' },
];
const FUNCTION_RULES = [
  { what: 'shared helper', pattern: /^\/common\/[\w-]+$/, access: 'private' },
  { what: 'wasm glue', pattern: /^\/wasm\/[a-z_]+$/, access: 'private' },
  { what: 'endpoint', pattern: /^\/[\w-]+$/, access: 'public' },
  { what: 'schedule admin endpoint', pattern: /^\/admin\/(list|update|update-status|publish|preview|fetch-config)$/, access: 'public' },
  { what: 'Twilio webhook', pattern: /^\/[\w-]+$/, access: 'protected' },
];

function classify(item, rules) {
  return rules.find((r) => r.pattern.test(item.path) && r.access === item.access);
}

test('the deploy uploads only known files, each with the right visibility', async () => {
  const { functions, assets } = await utils.getListOfFunctionsAndAssets(root, {
    functionsFolderNames: [rc.functionsFolder],
    assetsFolderNames: [rc.assetsFolder],
  });
  const unexpected = [
    ...functions.filter((f) => !classify(f, FUNCTION_RULES) || !f.filePath.endsWith('.js')),
    ...assets.filter((a) => !classify(a, ASSET_RULES) || /\.(d\.ts|map)$|\/\./.test(a.filePath)),
  ].map((x) => `${x.access} ${x.path} (${path.relative(root, x.filePath)})`);
  assert.deepEqual(unexpected, []);

  const paths = (list, access) => list.filter((x) => x.access === access).map((x) => x.path);
  assert.ok(paths(assets, 'private').includes('/wasm/schedule_bg.wasm'), 'the schedule module is uploaded');
  assert.ok(paths(assets, 'private').includes('/config.json'), 'the schedule config is uploaded privately');
  assert.ok(paths(functions, 'private').includes('/wasm/schedule'), 'the schedule glue is a private function');
  assert.ok(paths(functions, 'public').includes('/check-schedule'), 'check-schedule is public');
  assert.ok(paths(assets, 'private').includes('/wasm/agent_history_bg.wasm'), 'the agent-history module is uploaded');
  assert.ok(paths(functions, 'private').includes('/common/agent-history'), 'the agent-history hook is a private helper');
  // Every crate's wasm has its glue, and nothing from the raw wasm-bindgen output leaks in.
  for (const wasm of paths(assets, 'private').filter((p) => p.startsWith('/wasm/'))) {
    const crate = wasm.replace(/^\/wasm\/(.*)_bg\.wasm$/, '$1');
    assert.ok(paths(functions, 'private').includes(`/wasm/${crate}`), `glue for ${crate}`);
  }
});

test('the service runs on node22 and installs only runtime dependencies', () => {
  assert.equal(rc.runtime, 'node22');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.match(pkg.dependencies['@twilio/runtime-handler'], /^\d+\.\d+\.\d+$/, 'runtime-handler pinned exactly');
  assert.equal(pkg.dependencies['twilio-run'], undefined, 'twilio-run is a devDependency');
  assert.match(pkg.scripts.deploy, /scripts\/deploy\.js/);
  assert.match(fs.readFileSync(path.join(root, 'scripts', 'deploy.js'), 'utf8'), /'twilio-run'\), \['deploy'/, 'deploys to Twilio with twilio-run');
});

// Each endpoint's visibility, pinned: people's functions are public (they check a Flex token),
// Twilio's webhooks protected (signed). A new endpoint must be added here with its visibility.
const ENDPOINTS = {
  '/check-schedule': 'public',
  '/park-call': 'public',
  '/pickup-parked-call': 'public',
  '/worker-capacity': 'public',
  '/call-status-handler': 'protected',
  '/pickup-twiml': 'protected',
  '/realtimestats-updateQueueStatistics': 'protected',
  // schedule manager admin API: public, each checks a Flex token and its role
  '/admin/list': 'public',
  '/admin/update': 'public',
  '/admin/update-status': 'public',
  '/admin/publish': 'public',
  '/admin/preview': 'public',
  '/admin/fetch-config': 'public',
  // supervisors and the floor TV: public, each checks a Flex token's role or the wallboard key
  '/staffing': 'public',
  '/wallboard-token': 'public',
  '/agents-live-token': 'public',
  '/queue-history': 'public',
  // voicemail (docs/voicemail.md): the box checks a Flex token; Twilio fetches the other two, signed
  '/voicemail': 'public',
  '/voicemail-twiml': 'protected',
  '/voicemail-recorded': 'protected',
  // Studio's Run Function widget signs its requests (docs/direct-calls.md)
  '/direct-extension': 'protected',
  '/agent-history': 'public',
};

test('every endpoint has its pinned visibility', async () => {
  const { functions } = await utils.getListOfFunctionsAndAssets(root, { functionsFolderNames: [rc.functionsFolder], assetsFolderNames: [rc.assetsFolder] });
  const endpoints = Object.fromEntries(functions.filter((f) => f.access !== 'private').map((f) => [f.path, f.access]));
  for (const [p, access] of Object.entries(ENDPOINTS)) assert.equal(endpoints[p], access, `${p} is ${access}`);
  assert.deepEqual(
    Object.keys(endpoints).filter((p) => !(p in ENDPOINTS)),
    [],
    'endpoints without a pinned visibility',
  );
});
