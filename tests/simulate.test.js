// `npm run simulate` against the stack `npm start` runs: the script drives the emulator, every
// change reaches the real queue-stats function as a TaskRouter event, and records appear in Sync.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('child_process');
const path = require('path');
const { startStack } = require('./helpers/stack');

test('a short simulated day fills the queueStats map with four queues that saw traffic', async () => {
  const stack = await startStack();
  try {
    const script = path.join(__dirname, '..', 'scripts', 'simulate.js');
    const output = await new Promise((resolve, reject) => {
      execFile(process.execPath, [script, '--minutes', '0.3', '--seed', '11', '--history-days', '1', '--emulator', stack.emu.origin, '--functions', stack.rt.base], { timeout: 90000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      );
    });
    assert.match(output, /wallboard\/index\.html#token=/, 'prints the wallboard URL');
    assert.match(output, /The simulated day is over/);
    const sync = stack.emu.snapshot().sync.services[stack.emu.functionEnv().SYNC_SERVICE_SID];
    const records = Object.values(sync.maps.queueStats.items).map((i) => i.data);
    assert.deepEqual(records.map((r) => r.friendlyName).sort(), ['Billing', 'Sales', 'Spanish', 'Support']);
    const entered = records.reduce((n, r) => n + r.cumulativeStats_all.tEnter, 0);
    assert.ok(entered > 0, 'tasks entered the queues');
    assert.ok(records.every((r) => r.realTimeStats_all.eligibleWorkers > 0), 'agents are eligible');
    // A day of past traffic stored as queue history, in the same four queues.
    assert.match(output, /History: \d+ past tasks, \d+ hours stored \(1 days\)/);
    const hours = Object.keys(sync.maps['queueHistory.all'].items);
    assert.ok(hours.length >= 24, `${hours.length} hours stored`);
    const failed = stack.emu.snapshot().webhooks.filter((w) => w.status !== 200);
    assert.deepEqual(failed, [], 'every event callback answered 200');
  } finally {
    await stack.stop();
  }
});
