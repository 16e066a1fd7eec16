// The Schedule Manager admin API end to end: the real twilio-run serving the admin functions,
// the emulator's Serverless API holding this checkout deployed with the Serverless Toolkit's client
// (what `npm run deploy` and `npm start` do), and the plugin's own sequence: list -> update ->
// update-status every 2 s until completed -> publish -> list. The plugin's 2 s between polls are
// spent by the emulator's builds at once (see `elapse`): no test waits for them in real time.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator } = require('../emulator');
const { startRuntime } = require('./helpers/runtime');
const { postForm, sid } = require('./helpers/emulator-client');
const { deployProject } = require('../scripts/deploy');

let emu;
let rt;
let admin;
let agent;
let supervisor;
let cliBuild; // the build `npm run deploy` made

// `ms` pass for the builds under way: each is that much nearer its end (a 500 ms build is done
// after the plugin's 2 s). The emulator's clock itself stays with the real time, which the
// runtime's clock (the update's settle rule compares build times with it) keeps too.
function elapse(ms) {
  const now = emu.clock.now();
  for (const b of serverless().builds.values()) if (!b.final && b.readyAt > now) b.readyAt = Math.max(now, b.readyAt - ms);
}
const serverless = () => emu.ctx.state.serverless;
const environment = () => serverless().environments.get(emu.functionEnv().ENVIRONMENT_SID);
const deployedBuild = () => serverless().builds.get(environment().build_sid);
const counts = () => ({ assetVersions: serverless().assetVersions.size, builds: serverless().builds.size, deployments: serverless().deployments.size });

// The plugin's ScheduleManagerService: form posts with Token, update as JSON.
const plugin = {
  list: (token = admin) => postForm(rt.url('/admin/list'), { Token: token }),
  async update(config, token = admin) {
    const res = await fetch(rt.url('/admin/update'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...config, Token: token }),
    });
    return { status: res.status, body: await res.json() };
  },
  updateStatus: (buildSid, token = admin) => postForm(rt.url('/admin/update-status'), { buildSid, Token: token }),
  publish: (buildSid, token = admin) => postForm(rt.url('/admin/publish'), { buildSid, Token: token }),
};

// publishSchedules: 0 success, 2 version conflict, 3 failure; with the answers seen.
async function publishSchedules(config, token = admin) {
  const seen = { polls: [] };
  seen.update = await plugin.update(config, token);
  if (seen.update.status === 409) return { code: 2, ...seen };
  if (seen.update.status !== 200 || !seen.update.body.success) return { code: 3, ...seen };
  const { buildSid } = seen.update.body;
  for (;;) {
    elapse(2000);
    const s = await plugin.updateStatus(buildSid, token);
    seen.polls.push(s.body.buildStatus);
    if (s.body.buildStatus === 'completed') break;
    if (s.status !== 200 || ['failed', 'error'].includes(s.body.buildStatus)) return { code: 3, buildSid, ...seen };
  }
  seen.publish = await plugin.publish(buildSid, token);
  return { code: seen.publish.status === 200 && seen.publish.body.success ? 0 : 3, buildSid, ...seen };
}

async function listed() {
  const res = await plugin.list();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** The config the list answered, edited as the plugin does (in place, status echoed back). */
function withHoliday(config, { id = `holiday-${sid('').slice(0, 8)}`, date = '2031-07-01', reason = 'test holiday' } = {}) {
  const copy = structuredClone(config);
  copy.data.rules.push({ id, name: `Holiday ${id}`, isOpen: false, closedReason: reason, startDate: date, endDate: date });
  copy.data.schedules.find((s) => s.name === 'Support').rules.unshift(id);
  return copy;
}

async function storedConfig(build = deployedBuild()) {
  const v = build.asset_versions.find((a) => a.path === '/config.json');
  const res = await fetch(`${emu.origin}/emulator/serverless/asset-versions/${v.sid}/content`);
  return JSON.parse(await res.json());
}

before(async () => {
  emu = await startEmulator({ port: 0 });
  serverless().buildMs = 500;
  const r = await deployProject(emu.functionEnv(), { log: () => {} });
  cliBuild = r.buildSid;
  rt = await startRuntime({ env: emu.functionEnv() });
  admin = emu.makeToken({ identity: 'ada', roles: ['admin'] }).token;
  agent = emu.makeToken({ identity: 'bob', roles: ['agent'] }).token;
  supervisor = emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token;
});

after(async () => {
  try {
    if (rt) await rt.stop();
  } finally {
    if (emu) await emu.close();
  }
});

test('the plugin sequence publishes a holiday that check-schedule then follows, keeping every other part of the build', async () => {
  const first = await listed();
  assert.equal(first.versionIsDeployed, true);
  assert.match(first.version, /^ZN[0-9a-f]{32}$/);
  assert.ok(first.data.schedules.every((s) => typeof s.status.isOpen === 'boolean' && typeof s.status.closedReason === 'string'));
  assert.deepEqual(first.problems, []);
  const before = deployedBuild();

  // The JSON update is preceded by a CORS preflight, which must succeed.
  const preflight = await fetch(rt.url('/admin/update'), {
    method: 'OPTIONS',
    headers: { Origin: 'https://flex.twilio.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
  });
  assert.ok(preflight.status >= 200 && preflight.status < 300, `preflight answered ${preflight.status}`);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  assert.match(preflight.headers.get('access-control-allow-headers'), /content-type/i);

  // Today in the schedule's zone (Support: America/New_York), not UTC's date.
  const today = new Date().toLocaleDateString('en-CA', { timeZone: 'America/New_York' });
  const edited = withHoliday(first, { id: 'closed-today', date: today, reason: 'test holiday' });
  const outcome = await publishSchedules(edited);
  assert.equal(outcome.code, 0, JSON.stringify(outcome));
  assert.match(outcome.update.body.buildSid, /^ZB[0-9a-f]{32}$/);
  assert.ok(outcome.polls.length >= 1 && outcome.polls.at(-1) === 'completed');
  assert.match(outcome.publish.body.deploymentSid, /^ZD[0-9a-f]{32}$/);

  const now = await listed();
  assert.equal(now.versionIsDeployed, true);
  assert.notEqual(now.version, first.version);
  assert.ok(now.data.rules.some((r) => r.id === 'closed-today'));
  const support = now.data.schedules.find((s) => s.name === 'Support');
  assert.deepEqual(support.status, { isOpen: false, closedReason: 'test holiday' });

  // check-schedule follows the local publish, as a deployment would.
  const check = await (await fetch(rt.url('/check-schedule?name=Support'))).json();
  assert.equal(check.isOpen, false);
  assert.equal(check.closedReason, 'test holiday');

  // The new build is the deployed one's functions, other assets, dependencies and runtime; only the config differs.
  const after = deployedBuild();
  assert.equal(after.sid, outcome.buildSid);
  const sids = (list) => list.map((v) => v.sid).sort();
  assert.deepEqual(sids(after.function_versions), sids(before.function_versions));
  const others = (b) => sids(b.asset_versions.filter((v) => v.path !== '/config.json'));
  assert.deepEqual(others(after), others(before));
  assert.ok(others(after).length >= 5, 'wasm modules and hold music are kept');
  assert.equal(after.runtime, before.runtime);
  assert.equal(after.runtime, 'node22');
  assert.deepEqual(after.dependencies, before.dependencies);
  const config = after.asset_versions.find((v) => v.path === '/config.json');
  assert.equal(serverless().assetVersions.get(config.sid).visibility, 'private');
  // What the plugin echoed back is not stored.
  const stored = await storedConfig(after);
  assert.ok(stored.schedules.every((s) => s.status === undefined));
  assert.equal(stored.versionIsDeployed, undefined);
});

test('an update based on an older version is a 409 with a JSON body, and nothing is uploaded', async () => {
  const stale = await listed();
  assert.equal((await publishSchedules(withHoliday(stale))).code, 0);
  const mark = counts();
  const res = await plugin.update(withHoliday(stale));
  assert.equal(res.status, 409);
  assert.equal(res.body.code, 'stale_version');
  assert.match(res.body.error, /published by someone else/);
  assert.deepEqual(counts(), mark);
});

test('two admins publishing from the same list: one succeeds, the other gets a 409', async () => {
  const shared = await listed();
  const outcomes = await Promise.all([publishSchedules(withHoliday(shared, { id: 'from-ada' })), publishSchedules(withHoliday(shared, { id: 'from-bea' }))]);
  assert.deepEqual(outcomes.map((o) => o.code).sort(), [0, 2], JSON.stringify(outcomes.map((o) => o.update)));
  const loser = outcomes.find((o) => o.code === 2);
  assert.match(loser.update.body.error, /Another admin|someone else/);
  const winner = outcomes.find((o) => o.code === 0);
  const ids = (await listed()).data.rules.map((r) => r.id);
  assert.equal(ids.includes('from-ada') + ids.includes('from-bea'), 1);
  assert.equal(deployedBuild().sid, winner.buildSid);
});

test('a change waiting to be published makes versionIsDeployed false and refuses other updates', async () => {
  const shared = await listed();
  const pending = await plugin.update(withHoliday(shared));
  assert.equal(pending.status, 200);
  const meanwhile = await listed();
  assert.equal(meanwhile.versionIsDeployed, false);
  assert.equal(meanwhile.version, shared.version, 'the version is the data shown: the deployed config');
  const other = await plugin.update(withHoliday(meanwhile));
  assert.equal(other.status, 409);
  assert.equal(other.body.code, 'change_pending');
  assert.match(other.body.error, new RegExp(pending.body.buildSid));
  // The first admin finishes; the waiting change is published.
  elapse(2000);
  assert.equal((await plugin.updateStatus(pending.body.buildSid)).body.buildStatus, 'completed');
  assert.equal((await plugin.publish(pending.body.buildSid)).status, 200);
  assert.equal((await listed()).versionIsDeployed, true);
});

test('an invalid rule is a 400 naming it and the value, and nothing is uploaded or built', async () => {
  const config = withHoliday(await listed());
  config.data.rules.find((r) => r.id === 'lunch').startTime = '12.30pm';
  const mark = counts();
  const res = await plugin.update(config);
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'invalid_config');
  assert.match(res.body.error, /rule "Lunch closure" \(id "lunch"\): startTime "12\.30pm" is not a time/);
  assert.equal(res.body.problems.length, 1, JSON.stringify(res.body.problems));
  assert.deepEqual(counts(), mark);
  const empty = await plugin.update({ data: {}, version: config.version });
  assert.equal(empty.status, 400);
  assert.deepEqual(counts(), mark);
});

test('60 rules of COUNT=10000 Fridays the 13th are refused by update and preview: a 400 naming a rule and the limit, nothing stored', async () => {
  // Each would take some 5,800 years of calendar to expand; before the limits, preview answered
  // after 12.9 s (past Twilio's 10 s) and check-schedule's first answer took 5.3 s.
  const config = await listed();
  const costly = structuredClone(config);
  for (let i = 1; i <= 60; i++) {
    costly.data.rules.push({
      id: `fri13-${i}`,
      name: `Friday 13th ${i}`,
      isOpen: false,
      closedReason: 'superstition',
      startDate: '2026-01-01',
      dateRRule: 'RRULE:FREQ=DAILY;COUNT=10000;BYMONTHDAY=13;BYDAY=FR',
    });
  }
  costly.data.schedules.find((s) => s.name === 'Support').rules.unshift('fri13-1', 'fri13-2');
  const mark = counts();
  const res = await plugin.update(costly);
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'invalid_config');
  assert.match(
    res.body.error,
    /^The schedule configuration is invalid: rule "Friday 13th 1" \(id "fri13-1"\): dateRRule "RRULE:FREQ=DAILY;COUNT=10000;BYMONTHDAY=13;BYDAY=FR" is invalid: COUNT=10000 is too costly: .*a rule may span at most 36,600 days \(about 100 years\); only 172 occurrences fall within that span/,
  );
  assert.equal(res.body.problems.length, 60);
  assert.match(res.body.problems[1].message, /id "fri13-2".*the COUNT rules of a configuration may span 40,000 days in all, of which the rules before this one leave 3,400/);
  assert.ok(res.body.problems.every((p) => p.code === 'invalid_rule'));
  const preview = await fetch(rt.url('/admin/preview'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...costly, Token: admin }),
  });
  assert.equal(preview.status, 400);
  assert.match((await preview.json()).error, /rule "Friday 13th 1" \(id "fri13-1"\).*COUNT=10000 is too costly/);
  assert.deepEqual(counts(), mark);
});

test('an agent or supervisor token is refused (403, JSON) on every write; list accepts any valid token', async () => {
  const config = await listed();
  const writes = [
    ['update', (t) => plugin.update(config, t)],
    ['update-status', (t) => plugin.updateStatus(deployedBuild().sid, t)],
    ['publish', (t) => plugin.publish(deployedBuild().sid, t)],
    ['preview', (t) => postForm(rt.url('/admin/preview'), { Token: t })],
  ];
  const mark = counts();
  for (const [name, call] of writes) {
    for (const token of [agent, supervisor, 'not-a-token', '']) {
      const res = await call(token);
      assert.equal(res.status, 403, `${name} with ${token}: ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.error, 'string', `${name}: JSON body`);
    }
  }
  assert.deepEqual(counts(), mark);
  assert.equal((await plugin.list(agent)).status, 200);
  assert.equal((await plugin.list(supervisor)).status, 200);
  assert.equal((await plugin.list('not-a-token')).status, 403);
});

test('a failed build ends polling with failed, publish refuses it, and the next update works', async () => {
  const config = await listed();
  serverless().buildFaults = 1;
  const outcome = await publishSchedules(withHoliday(config));
  assert.equal(outcome.code, 3);
  assert.equal(outcome.polls.at(-1), 'failed');
  const refused = await plugin.publish(outcome.buildSid);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, 'build_failed');
  assert.equal((await listed()).versionIsDeployed, true, 'a failed build is not waiting to be published');
  assert.equal((await publishSchedules(withHoliday(config))).code, 0);
});

test('publish refuses a foreign, unknown, older, non-config or unfinished build; update-status of an unknown build is failed', async () => {
  const unknown = sid('ZB');
  assert.deepEqual((await plugin.updateStatus(unknown)).body.buildStatus, 'failed');
  const refusal = async (buildSid, code) => {
    const res = await plugin.publish(buildSid);
    assert.equal(res.status, 409, `${buildSid}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, code);
    assert.match(res.body.error, new RegExp(buildSid));
  };
  await refusal(unknown, 'unknown_build');

  // A build of another service (same account) is not found in this one.
  const other = await fetch(`${emu.origin}/v1/Services`, {
    method: 'POST',
    headers: {
      'X-Forwarded-Host': 'serverless.twilio.com',
      Authorization: `Basic ${Buffer.from(`${emu.ctx.accountSid}:${emu.ctx.authToken}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'UniqueName=someone-else&FriendlyName=Someone%20else',
  }).then((r) => r.json());
  const foreign = await fetch(`${emu.origin}/v1/Services/${other.sid}/Builds`, {
    method: 'POST',
    headers: { 'X-Forwarded-Host': 'serverless.twilio.com', Authorization: `Basic ${Buffer.from(`${emu.ctx.accountSid}:${emu.ctx.authToken}`).toString('base64')}` },
  }).then((r) => r.json());
  elapse(600);
  await refusal(foreign.sid, 'unknown_build');
  assert.equal((await plugin.updateStatus(foreign.sid)).body.buildStatus, 'failed');

  // The CLI's build is not a config build; an earlier published config build is older than the deployed one.
  await refusal(cliBuild, 'not_a_config_build');
  const earlier = [...serverless().deployments.values()].map((d) => d.build_sid).filter((b) => b !== cliBuild && b !== deployedBuild().sid);
  assert.ok(earlier.length >= 1);
  await refusal(earlier[0], 'older_than_deployed');
  await refusal(deployedBuild().sid, 'already_deployed');

  // A build still building.
  serverless().buildMs = 5000;
  try {
    const pending = await plugin.update(withHoliday(await listed()));
    assert.equal(pending.status, 200);
    await refusal(pending.body.buildSid, 'not_completed');
  } finally {
    serverless().buildMs = 500;
  }
});

test('fetch-config answers the deployed config with credentials in the Authorization header only', async () => {
  const basic = (user, secret) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
  const ok = await fetch(rt.url('/admin/fetch-config'), { headers: { Authorization: basic(emu.ctx.accountSid, emu.ctx.authToken) } });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), await storedConfig());
  const inUrl = await fetch(rt.url(`/admin/fetch-config?apiKey=${emu.ctx.accountSid}&apiSecret=${emu.ctx.authToken}`));
  assert.equal(inUrl.status, 400);
  assert.match((await inUrl.json()).error, /Authorization/);
  const none = await fetch(rt.url('/admin/fetch-config'));
  assert.equal(none.status, 401);
  const wrong = await fetch(rt.url('/admin/fetch-config'), { headers: { Authorization: basic(emu.ctx.accountSid, 'wrong-secret') } });
  assert.equal(wrong.status, 401);
  assert.equal(typeof (await wrong.json()).error, 'string');

  // `npm run fetch-config` writes it (here to a scratch file), with no credentials in any URL.
  const { execFile } = require('child_process');
  const fs = require('fs');
  const path = require('path');
  const out = path.join(require('./helpers/runtime').root, 'target', `fetched-config-${process.pid}.json`);
  emu.requests.length = 0;
  // Asynchronously: the emulator answering the script lives in this process.
  await new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['scripts/fetch-config.js', '--out', out],
      { cwd: require('./helpers/runtime').root, env: { ...process.env, ...emu.functionEnv(), FUNCTIONS_ORIGIN: rt.base } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}${stderr}`)) : resolve()),
    ),
  );
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), await storedConfig());
  fs.rmSync(out);
  assert.ok(emu.requests.length > 0);
  for (const r of emu.requests) assert.ok(!JSON.stringify(r.query).includes(emu.ctx.authToken), `${r.path} carries no secret in its URL`);
});

test('preview answers intervals per schedule, or the validation problems, without storing anything', async () => {
  const config = await listed();
  const mark = counts();
  const res = await fetch(rt.url('/admin/preview'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...withHoliday(config, { id: 'xmas-eve', date: '2031-12-24', reason: 'christmas eve' }), name: 'Support', days: 7, Token: admin }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.days, 7);
  assert.equal(body.schedules.length, 1);
  const intervals = body.schedules[0].intervals;
  assert.ok(intervals.length > 5);
  assert.ok(intervals.some((i) => i.isOpen && i.rule === 'Weekday hours'));
  const all = await postForm(rt.url('/admin/preview'), { Token: admin });
  assert.equal(all.status, 200);
  assert.equal(all.body.days, 14);
  assert.deepEqual(
    all.body.schedules.map((s) => s.name),
    ['Billing', 'Night support', 'Sales', 'Support'],
  );
  assert.equal((await postForm(rt.url('/admin/preview'), { Token: admin, days: '63' })).status, 400);
  const bad = structuredClone(config);
  bad.data.schedules[0].timeZone = 'Mars/Olympus';
  const invalid = await fetch(rt.url('/admin/preview'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...bad, Token: admin }) });
  assert.equal(invalid.status, 400);
  assert.match((await invalid.json()).error, /Mars\/Olympus/);
  assert.deepEqual(counts(), mark);
});

test('a deployed config with one broken rule still answers the schedules that do not use it', async () => {
  // As if deployed with `twilio serverless:deploy` without the build's validation: upload a config
  // whose night line rule is invalid, build it with everything else, deploy it.
  const current = await storedConfig();
  current.rules.find((r) => r.id === 'night-line').endTime = '6am';
  const auth = { Authorization: `Basic ${Buffer.from(`${emu.ctx.accountSid}:${emu.ctx.authToken}`).toString('base64')}` };
  const svc = emu.functionEnv().SERVICE_SID;
  const base = deployedBuild();
  const cfg = base.asset_versions.find((v) => v.path === '/config.json');
  const form = new FormData();
  form.append('Path', '/config.json');
  form.append('Visibility', 'private');
  form.append('Content', new Blob([JSON.stringify(current)], { type: 'application/json' }), 'config.json');
  const version = await fetch(`${emu.origin}/v1/Services/${svc}/Assets/${cfg.asset_sid}/Versions`, {
    method: 'POST',
    headers: { ...auth, 'X-Forwarded-Host': 'serverless-upload.twilio.com' },
    body: form,
  }).then((r) => r.json());
  const params = new URLSearchParams();
  base.function_versions.forEach((v) => params.append('FunctionVersions', v.sid));
  base.asset_versions.filter((v) => v.path !== '/config.json').forEach((v) => params.append('AssetVersions', v.sid));
  params.append('AssetVersions', version.sid);
  params.append('Runtime', base.runtime);
  const sls = { ...auth, 'X-Forwarded-Host': 'serverless.twilio.com', 'Content-Type': 'application/x-www-form-urlencoded' };
  const build = await fetch(`${emu.origin}/v1/Services/${svc}/Builds`, { method: 'POST', headers: sls, body: params.toString() }).then((r) => r.json());
  elapse(600);
  const dep = await fetch(`${emu.origin}/v1/Services/${svc}/Environments/${emu.functionEnv().ENVIRONMENT_SID}/Deployments`, { method: 'POST', headers: sls, body: `BuildSid=${build.sid}` });
  assert.equal(dep.status, 201);

  const check = async (name) => {
    const res = await fetch(rt.url(`/check-schedule?name=${encodeURIComponent(name)}&simulate=2031-03-04T10:00`));
    return { status: res.status, body: await res.json() };
  };
  for (const [name, isOpen, closedReason] of [
    ['Support', true, ''],
    ['Sales', true, ''],
    ['Billing', false, 'manual'],
  ]) {
    const r = await check(name);
    assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
    assert.deepEqual([r.body.isOpen, r.body.closedReason], [isOpen, closedReason], name);
  }
  const night = await check('Night support');
  assert.equal(night.status, 500);
  assert.equal(night.body.isOpen, true);
  assert.equal(night.body.closedReason, 'error');
  assert.match(night.body.error, /rule "Night line" \(id "night-line"\): endTime "6am"/);

  const list = await listed();
  assert.equal(list.problems.length, 1, JSON.stringify(list.problems));
  assert.match(list.problems[0].message, /Night line/);
  const status = (name) => list.data.schedules.find((s) => s.name === name).status;
  assert.equal(status('Night support').closedReason, 'error');
  assert.match(status('Night support').error, /Night line/);
  assert.equal(typeof status('Support').isOpen, 'boolean');
  assert.notEqual(status('Support').closedReason, 'error');
});
