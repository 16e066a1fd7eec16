// Compatibility evidence: every answer of the published Schedule Manager evaluator in
// tests/fixtures/schedule/cases.json must come out the same from check-schedule, served by the
// real twilio-run with each fixture config in place of the deployed config.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { startRuntime, assetsWithConfig, root } = require('./helpers/runtime');

const fixtures = path.join(root, 'tests', 'fixtures', 'schedule');
const { cases } = JSON.parse(fs.readFileSync(path.join(fixtures, 'cases.json'), 'utf8'));

test('the fixture holds the 1,510 published answers', () => {
  assert.equal(cases.length, 1510);
});

const byConfig = new Map();
for (const c of cases) {
  if (!byConfig.has(c.config)) byConfig.set(c.config, []);
  byConfig.get(c.config).push(c);
}

for (const [config, group] of byConfig) {
  test(`${config}: ${group.length} cases match the published evaluator`, async () => {
    const assetsDir = assetsWithConfig(path.join(fixtures, config), path.basename(config, '.json'));
    const rt = await startRuntime({ assetsDir });
    try {
      const mismatches = [];
      // A few requests in flight at a time, like concurrent Studio executions.
      const queue = [...group];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let c = queue.shift(); c; c = queue.shift()) {
            const qs = new URLSearchParams({ name: c.schedule, simulate: c.simulate });
            const res = await fetch(rt.url(`/check-schedule?${qs}`));
            const body = await res.json();
            const got = c.expect.status !== undefined ? { status: res.status } : { isOpen: body.isOpen, closedReason: body.closedReason };
            if (c.expect.status === undefined && res.status !== 200) got.status = res.status;
            try {
              assert.deepEqual(got, c.expect);
            } catch {
              mismatches.push({ ...c, got, body });
            }
          }
        }),
      );
      assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} of ${group.length} cases differ`);
    } finally {
      await rt.stop();
      fs.rmSync(assetsDir, { recursive: true, force: true });
    }
  });
}
