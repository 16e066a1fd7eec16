// Deploying: `npm run deploy` against the emulator uploads exactly the bundle (every file the
// Serverless Toolkit lists, byte for byte, with its visibility) and deploys it on node22 with the
// runtime dependencies; `npm install` without Rust fails at once saying how to get it; a deployment
// of an unbuilt checkout answers an error naming the cause instead of "Cannot find module".
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { utils } = require('@twilio-labs/serverless-api');
const { startEmulator } = require('../emulator');
const { startRuntime, root } = require('./helpers/runtime');

function run(cmd, args, env) {
  // Asynchronous: the emulator answering the deploy lives in this process.
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: `${stdout}${stderr}` }));
  });
}

test('npm run deploy to the emulator uploads exactly the bundle, with visibilities, runtime and dependencies', async () => {
  const emu = await startEmulator({ port: 0 });
  try {
    const env = { ...process.env, ...emu.functionEnv() };
    const r = await run('npm', ['run', '-s', 'deploy'], env);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /keeping the local config \(nothing is deployed/);

    const { functions, assets } = await utils.getListOfFunctionsAndAssets(root, { functionsFolderNames: ['functions'], assetsFolderNames: ['assets'] });
    const sls = emu.ctx.state.serverless;
    const environment = sls.environments.get(emu.functionEnv().ENVIRONMENT_SID);
    const build = sls.builds.get(environment.build_sid);
    assert.ok(build, 'the environment runs the new build');
    const uploaded = (versions, store) => versions.map((v) => `${v.path} ${v.visibility} ${store.get(v.sid).content.length}`).sort();
    const expected = (list) => list.map((f) => `${f.path} ${f.access} ${fs.statSync(f.filePath).size}`).sort();
    assert.deepEqual(uploaded(build.function_versions, sls.functionVersions), expected(functions));
    assert.deepEqual(uploaded(build.asset_versions, sls.assetVersions), expected(assets));
    for (const v of build.asset_versions) {
      const file = assets.find((a) => a.path === v.path).filePath;
      assert.ok(sls.assetVersions.get(v.sid).content.equals(fs.readFileSync(file)), `${v.path} uploaded byte for byte`);
    }
    assert.ok(build.asset_versions.some((v) => v.path === '/wasm/schedule_bg.wasm' && v.visibility === 'private'));
    assert.ok(build.function_versions.some((v) => v.path === '/admin/update' && v.visibility === 'public'));
    assert.equal(build.runtime, 'node22');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.deepEqual(
      build.dependencies,
      Object.entries(pkg.dependencies).map(([name, version]) => ({ name, version })),
    );
    // Uploads went to the upload host, as multipart.
    const uploads = emu.requests.filter((q) => /\/Versions$/.test(q.path) && q.method === 'POST');
    assert.equal(uploads.length, functions.length + assets.length);
    assert.ok(uploads.every((q) => q.product === 'serverless-upload' && /multipart\/form-data/.test(q.headers['content-type'])));
  } finally {
    await emu.close();
  }
});

test('npm install without Rust fails at once and says how to install it', () => {
  const r = spawnSync(process.execPath, ['scripts/prepare.js'], {
    cwd: root,
    env: { PATH: path.dirname(process.execPath), HOME: process.env.HOME },
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /needs Rust/);
  assert.match(r.stderr, /rustup\.rs/);
  // setup.js's own install skips it (it builds right after).
  const skipped = spawnSync(process.execPath, ['scripts/prepare.js'], { cwd: root, env: { PATH: '', FLEX_CC_SKIP_PREPARE: '1' } });
  assert.equal(skipped.status, 0);
});

test('a deployment of an unbuilt checkout answers an error naming the missing build, not a bare 500', async () => {
  const dir = path.join(root, 'target', 'test-functions', `unbuilt-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const glue = path.join(root, 'functions', 'wasm');
  fs.cpSync(path.join(root, 'functions'), dir, { recursive: true, filter: (src) => src !== glue && !src.startsWith(glue + path.sep) });
  const rt = await startRuntime({ functionsDir: dir });
  try {
    const res = await fetch(rt.url('/check-schedule?name=Support'));
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.code, 'unbuilt_deployment');
    assert.match(body.error, /deployed without its WebAssembly/);
    assert.match(body.error, /npm install/);
  } finally {
    await rt.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
