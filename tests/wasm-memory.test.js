// What a warm container remembers between events lives in the crates' wasm state (issue 14):
// queue statistics' QueueStats instance, the live agents writer's module. A trap makes the loader
// (common/wasm) drop the module and load a fresh one, so that memory is gone: it must only cost
// reads. Here the reload is the loader's own (`reset()`, what a trap does), on the built glue.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');

const root = path.join(__dirname, '..');
global.Runtime = global.Runtime || { getAssets: () => ({}), getFunctions: () => ({}) };
const { wasmModule } = require(path.join(root, 'functions', 'common', 'wasm.private.js'));
const glue = (crate) => () => path.join(root, 'functions', 'wasm', `${crate}.private.js`);
const kinds = (step) => (step.run || []).map((e) => e.op.kind);
const sid = (prefix, c) => prefix + c.repeat(32);

test('queue statistics: the instance remembers a record; after a reload the run reads it from Sync again', () => {
  // The services are the instance's settings; the parked calls are left off, and there is no board.
  const env = { TWILIO_FLEX_SYNC_SID: sid('IS', 'b'), WORKSPACE_SID: sid('WS', 'c') };
  const mod = wasmModule('queue_stats', (wasm) => new wasm.QueueStats(env, { parked: false }), { resolveGlue: glue('queue_stats') });
  const Q = sid('WQ', 'a');
  const start = () => mod.call((wasm, qs) => qs.startRefresh({ queueSid: Q, works: [{ kind: 'refresh', channels: ['all'], friendlyName: 'Sales' }], waited: false }, Date.now()));
  assert.deepEqual(kinds(start()), ['fetchSyncItem', 'fetchTaskQueueStatistics'], 'a fresh container reads the record');
  mod.call((wasm, qs) => qs.keep(Q, { remember: { data: { sid: Q, friendlyName: 'Sales' }, revision: '1' } }, false));
  assert.deepEqual(kinds(start()), ['fetchTaskQueueStatistics'], 'a remembered record is not read again');
  mod.call((wasm, qs) => qs.keep(Q, { syncWrites: 1, errors: [] }, true)); // a board answer: not Flex's record
  assert.equal(
    mod.call((wasm, qs) => qs.remembered()),
    1,
  );
  mod.reset(); // a trap
  assert.deepEqual(kinds(start()), ['fetchSyncItem', 'fetchTaskQueueStatistics'], 'the reloaded instance reads it again');
  assert.equal(
    mod.call((wasm, qs) => qs.remembered()),
    0,
  );
});

test("the live agents writer: a worker's queues are remembered; after a reload they are fetched again", () => {
  const mod = wasmModule('agents_live', () => undefined, { resolveGlue: glue('agents_live') });
  const env = { TWILIO_FLEX_SYNC_SID: sid('IS', 'a'), WALLBOARD_SYNC_SID: sid('IS', 'b'), TWILIO_FLEX_WORKSPACE_SID: sid('WS', 'c') };
  const event = { EventType: 'worker.activity.update', WorkerSid: sid('WK', 'd'), WorkerActivityName: 'Available', EventDateMs: String(Date.now()), Sid: sid('EV', 'e') };
  const start = () => mod.call((wasm) => wasm.startAgentsLiveEvent({ event, env, nowMs: Date.now() }));
  const fresh = start();
  assert.ok(fresh.run, "a fresh container fetches the worker's queues");
  mod.call((wasm) => wasm.resumeAgentsLive(fresh.state, [{ ok: true, value: [] }], Date.now())); // its answer keeps them
  const known = start();
  assert.ok(known.answer && known.answer.body.write, 'known queues: the event goes straight to its shard');
  mod.reset(); // a trap
  assert.ok(start().run, 'the reloaded module fetches them again');
});
