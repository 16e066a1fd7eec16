// `npm start` passes twilio-run's listing on without the private functions and assets (they have no
// URL), in both of twilio-run's formats (plain, and the pretty box with colours and links).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { privateFunctionPaths, listsPrivate } = require('../scripts/start');
const { root } = require('./helpers/runtime');

test('private functions and assets are left out of the listing; public and protected ones stay', () => {
  const hidden = new Set([...privateFunctionPaths(), ...privateFunctionPaths(path.join(root, 'assets'), '', /\.private(\.[^.]+)$/)]);
  for (const p of ['/common/auth', '/common/http', '/wasm/schedule', '/config.json', '/wasm/schedule_bg.wasm']) assert.ok(hidden.has(p), p);
  for (const p of ['/check-schedule', '/wallboard-token', '/wallboard/index.html']) assert.ok(!hidden.has(p), p);
  const dropped = [
    'http://localhost:3000/common/auth',
    '\x1b[2mhttp://localhost:3000\x1b[22m/common/http',
    '│   ├── /common/auth                     │',
    '│   └── /wasm/schedule   │',
    'http://localhost:3000/wasm/schedule_bg.wasm',
  ];
  const kept = [
    'http://localhost:3000/check-schedule',
    '│   ├── /wallboard-token   │',
    '│   ├── [protected] /call-status-handler │',
    '│ ├── [private] /wasm/schedule_bg.wasm │',
    'Functions',
    'Twilio functions available:',
    'http://localhost:3000/wallboard/index.html',
  ];
  for (const line of dropped) assert.ok(listsPrivate(line, hidden), `dropped: ${line}`);
  for (const line of kept) assert.ok(!listsPrivate(line, hidden), `kept: ${line}`);
});
