// Agent history end to end: the emulator's agents move through activities and reservations, each
// change delivered to the real event callback (twilio-run) whose hook writes Sync records through
// the real agent-history wasm module; GET /agent-history answers from them, and every figure is
// compared with the emulator's ground truth (emulator/agent-activity.js). Steps happen hours ago
// on the emulator's held clock, so the hours are closed when asked for.
// Hours matter here (the hours before now, "the last closed hour"): every process reads a clock pinned to a half hour.
require('./helpers/clock').pinNow();
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers/stack');
const aa = require('../emulator/agent-activity');

const HOUR = 3600000;
const MIN = 60000;
const KEY = 'wallboard-key-for-agent-history-0123456789';
// The start of the UTC hour four hours ago: closed, and New York's hours start on UTC hours.
const H = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

let s;
let ctx;
let supervisor;
let agentToken;
const A = 'WKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'WKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const C = 'WKcccccccccccccccccccccccccccccccc';
const deliveries = [];

const at = (ms) => s.emu.clock.hold(ms);
async function act(ms, worker, activity) {
  at(ms);
  const r = await aa.setActivity(ctx, worker, activity);
  deliveries.push(r.delivery);
}
async function step(ms, worker, reservation, name, attributes) {
  at(ms);
  const r = await aa.reservationStep(ctx, worker, reservation, name, { attributes });
  deliveries.push(r.delivery);
}

before(async () => {
  s = await startStack({
    env: {
      WALLBOARD_KEY: KEY,
      QUEUE_STATS_TIME_ZONE: 'America/New_York',
      QUEUE_HISTORY_ENABLED: 'false',
    },
  });
  ctx = s.emu.ctx;
  const env = s.emu.functionEnv();
  assert.ok(env.WORKSPACE_SID && env.SYNC_SERVICE_SID);
  supervisor = s.emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token;
  agentToken = s.emu.makeToken({ identity: 'ivy', roles: ['agent'] }).token;
  // Agent A: Offline from H-90m, a morning of calls, a break, a call across the hour, Offline.
  at(H - 90 * MIN);
  await aa.setActivity(ctx, A, 'Offline', { friendlyName: 'Alice' });
  await aa.setActivity(ctx, B, 'Offline', { friendlyName: 'Bob' });
  ctx.state.taskrouter.workspace.workers.get(A).attributes = JSON.stringify({ team_name: 'Blue' });
  ctx.state.taskrouter.workspace.workers.get(B).attributes = JSON.stringify({ team_name: 'Green' });
  await act(H - 30 * MIN, A, 'Available');
  await step(H + 10 * MIN, A, 'WR00000000000000000000000000000001', 'accepted');
  await step(H + 14 * MIN, A, 'WR00000000000000000000000000000001', 'wrapup', { conversations: { outcome: 'Sale' } });
  await step(H + 15 * MIN + 30000, A, 'WR00000000000000000000000000000001', 'completed');
  await act(H + 20 * MIN + 1234, A, 'Break');
  await act(H + 35 * MIN, A, 'Available');
  await step(H + 40 * MIN, A, 'WR00000000000000000000000000000002', 'rejected');
  await step(H + 41 * MIN, A, 'WR00000000000000000000000000000003', 'timeout');
  await step(H + 50 * MIN, A, 'WR00000000000000000000000000000004', 'accepted');
  await step(H + HOUR + 5 * MIN, A, 'WR00000000000000000000000000000004', 'wrapup', { conversations: { outcome: 'Callback' } });
  await step(H + HOUR + 6 * MIN + 777, A, 'WR00000000000000000000000000000004', 'completed');
  await act(H + HOUR + 30 * MIN, A, 'Offline');
  // Agent B: Available for 40 minutes.
  await act(H + 5 * MIN, B, 'Available');
  await act(H + 45 * MIN, B, 'Offline');
  s.emu.clock.resume();
});

after(async () => {
  if (s) await s.stop();
});

async function get(query, headers = { Authorization: `Bearer ${supervisor}` }) {
  const res = await fetch(s.rt.url(`/agent-history?${new URLSearchParams(query)}`), { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

const records = () => {
  const service = s.emu.state.sync.services.get(s.emu.functionEnv().SYNC_SERVICE_SID);
  return [...service.maps.values()]
    .filter((m) => m.uniqueName.startsWith('agentHistory.'))
    .flatMap((m) => [...m.items.values()].map((i) => [`${m.uniqueName}/${i.key}`, JSON.stringify(i.data)]))
    .sort();
};

/** A series row's figures against the emulator's truth for that hour. */
function assertHour(row, t, label) {
  const seconds = Object.fromEntries(Object.entries(t.activityMs).map(([a, ms]) => [a, ms / 1000]));
  assert.deepEqual(row.activitySeconds, seconds, `${label}: seconds per activity`);
  const sum = Object.values(row.activitySeconds).reduce((x, y) => x + y, 0);
  assert.equal(sum, row.observedSeconds, `${label}: the activities sum to the observed time`);
  assert.equal(row.observedSeconds, t.observedMs / 1000, `${label}: observed`);
  assert.deepEqual(
    [row.accepted, row.rejected, row.timedOut, row.canceled, row.completed, row.handled, row.wrapped],
    [t.accepted, t.rejected, t.timedOut, t.canceled, t.completed, t.handled, t.wrapped],
    `${label}: counts`,
  );
  assert.equal(row.avgHandle, t.handled ? t.handleMs / 1000 / t.handled : null, `${label}: handle`);
  assert.equal(row.avgWrapup, t.wrapped ? t.wrapupMs / 1000 / t.wrapped : null, `${label}: wrap-up`);
  assert.deepEqual(row.dispositions, t.dispositions, `${label}: dispositions`);
}

test('every event was recorded by the callback hook, one write each, and the callback answered 200', () => {
  assert.equal(deliveries.length, 14);
  const maps = new Set(records().map(([path]) => path.split('/')[0]));
  for (const [i, d] of deliveries.entries()) {
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.agentHistory.kept, true, JSON.stringify(d.body.agentHistory));
    assert.equal(d.body.agentHistory.written, true);
    // One item read; the first event also lists each map once for records past retention.
    assert.equal(d.body.agentHistory.syncReads, i === 0 ? 1 + 4 : 1, JSON.stringify(d.body.agentHistory));
  }
  // One write per event, plus two for each map's first item (its create refused: no map; the map).
  const writes = deliveries.reduce((n, d) => n + d.body.agentHistory.syncWrites, 0);
  assert.equal(writes, deliveries.length + 2 * maps.size);
  // The previous activity came as a SID: the workspace's activities were listed once.
  assert.equal(
    deliveries.reduce((n, d) => n + d.body.agentHistory.taskrouterCalls, 0),
    1,
  );
});

test("an agent's seconds per activity, counts, handle and wrap-up time and dispositions equal the emulator's ground truth", async () => {
  const { status, body } = await get({ agent: A, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.missing, []);
  assert.equal(body.series.length, 2);
  const truth = aa.truth(ctx, A, H, H + 2 * HOUR);
  assertHour(body.series[0], truth[iso(H)], 'hour H');
  assertHour(body.series[1], truth[iso(H + HOUR)], 'hour H+1');
  // By hand: hour H is Available 3600 − 900 + 1.234 s, on a Break 900 − 1.234 s.
  assert.deepEqual(body.series[0].activitySeconds, { Available: 2701.234, Break: 898.766 });
  assert.equal(body.series[0].observedSeconds, 3600);
  assert.deepEqual(body.series[0].dispositions, { Sale: 1 });
  assert.deepEqual(body.series[1].dispositions, { Callback: 1 });
  assert.equal(body.series[1].avgHandle, (16 * MIN + 777) / 1000);
  assert.deepEqual(body.agents, [{ sid: A, name: 'Alice' }]);
});

test('duplicate, late and out-of-order events change nothing: no write, the same items and series', async () => {
  const url = s.rt.url('/realtimestats-updateQueueStatistics');
  const itemsBefore = records();
  const seriesBefore = (await get({ agent: `${A},${B}`, from: iso(H), to: iso(H + 2 * HOUR), by: 'agent' })).body;
  // Every event again, newest first (a redelivery, late and out of order).
  const all = ctx.state.agentActivity.delivered.slice().reverse();
  for (const params of all) {
    const r = await ctx.deliver(url, params);
    const body = JSON.parse(r.body);
    assert.equal(body.agentHistory.written, false, `${params.EventType} ${params.Sid} wrote again`);
    assert.equal(body.agentHistory.syncWrites, 0);
  }
  assert.deepEqual(records(), itemsBefore);
  const seriesAfter = (await get({ agent: `${A},${B}`, from: iso(H), to: iso(H + 2 * HOUR), by: 'agent' })).body;
  assert.deepEqual(seriesAfter, seriesBefore);

  // Agent C's events recorded first, delivered shuffled: the figures still equal the truth.
  const saved = ctx.state.contactCenter.callbackUrl;
  ctx.state.contactCenter.callbackUrl = null;
  const from = ctx.state.agentActivity.delivered.length;
  at(H - 60 * MIN);
  await aa.setActivity(ctx, C, 'Offline', { friendlyName: 'Cleo' });
  at(H + 7 * MIN);
  await aa.setActivity(ctx, C, 'Available');
  at(H + 8 * MIN);
  await aa.reservationStep(ctx, C, 'WR0000000000000000000000000000000c', 'accepted');
  at(H + 9 * MIN);
  await aa.reservationStep(ctx, C, 'WR0000000000000000000000000000000c', 'wrapup', { attributes: { conversations: { outcome: 'Resolved' } } });
  at(H + 10 * MIN);
  await aa.reservationStep(ctx, C, 'WR0000000000000000000000000000000c', 'completed');
  at(H + 33 * MIN);
  await aa.setActivity(ctx, C, 'Unavailable');
  at(H + 58 * MIN);
  await aa.setActivity(ctx, C, 'Offline');
  s.emu.clock.resume();
  ctx.state.contactCenter.callbackUrl = saved;
  const events = ctx.state.agentActivity.delivered.slice(from);
  for (const i of [4, 0, 6, 2, 5, 1, 3, 2, 4]) {
    if (!events[i]) continue;
    const r = await ctx.deliver(url, events[i]);
    assert.equal(r.status, 200);
  }
  const { body } = await get({ agent: C, from: iso(H), to: iso(H + HOUR), by: 'hour' });
  assertHour(body.series[0], aa.truth(ctx, C, H, H + HOUR)[iso(H)], 'agent C');
  assert.deepEqual(body.series[0].activitySeconds, { Available: 26 * 60, Offline: 9 * 60, Unavailable: 25 * 60 });
});

test('the wallboard key sees aggregates only: no agent SIDs or names; naming agents or by=agent is 403', async () => {
  const headers = { Authorization: `Wallboard ${KEY}` };
  const all = await get({ from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' }, headers);
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.body.agents, []);
  for (const secret of [A, B, C, 'Alice', 'Bob', 'Cleo']) assert.ok(!all.text.includes(secret), `the key's answer mentions ${secret}`);
  assert.ok(all.body.totals.completed >= 2);
  // A team (worker attribute team_name) is an aggregate too.
  const blue = await get({ agent: 'team:Blue', from: iso(H), to: iso(H + 2 * HOUR), by: 'activity' }, headers);
  assert.equal(blue.status, 200, blue.text);
  const truth = aa.truth(ctx, A, H, H + 2 * HOUR);
  const available = (truth[iso(H)].activityMs.Available + truth[iso(H + HOUR)].activityMs.Available) / 1000;
  assert.equal(blue.body.series.find((r) => r.key === 'Available').seconds, available);
  for (const [query, parameter] of [
    [{ agent: A }, 'agent'],
    [{ by: 'agent' }, 'by'],
  ]) {
    const r = await get(query, headers);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.parameter, parameter);
  }
});

test('bad parameters are 400 naming the parameter; an agent token is 403', async () => {
  for (const [query, parameter] of [
    [{ by: 'week' }, 'by'],
    [{ agent: 'WK123' }, 'agent'],
    [{ agent: 'team:' }, 'agent'],
    [{ from: 'tomorrow' }, 'from'],
    [{ range: 'fortnight' }, 'range'],
    [{ from: '2026-11-02', to: '2026-11-01T00:00' }, 'to'],
  ]) {
    const r = await get(query);
    assert.equal(r.status, 400, `${JSON.stringify(query)}: ${r.text}`);
    assert.equal(r.body.parameter, parameter, r.text);
  }
  const r = await get({ range: 'today' }, { Authorization: `Bearer ${agentToken}` });
  assert.equal(r.status, 403, r.text);
  const none = await get({ range: 'today' }, {});
  assert.equal(none.status, 403, none.text);
});

test("New York's DST days have 25 and 23 hourly buckets", async () => {
  for (const [day, hours] of [
    ['2025-11-02', 25],
    ['2026-03-08', 23],
  ]) {
    const { status, body, text } = await get({ from: day, to: day, by: 'hour' });
    assert.equal(status, 200, text);
    assert.equal(body.series.length, hours, day);
    assert.equal(body.closedHours, hours);
  }
});

test("a Sync failure in the hook never fails the queue statistics' callback", async () => {
  const D = 'WKdddddddddddddddddddddddddddddddd';
  at(H + 10 * MIN);
  await aa.setActivity(ctx, D, 'Offline', { friendlyName: 'Dora' });
  s.emu.failNext({ path: '/Maps/agentHistory.' }, { status: 400, code: 54009, message: 'injected' });
  at(H + 20 * MIN);
  const { delivery } = await aa.setActivity(ctx, D, 'Available');
  s.emu.clock.resume();
  assert.equal(delivery.status, 200);
  assert.match(delivery.body.agentHistory.error, /injected/);
  assert.ok(delivery.body.plan, 'the queue statistics answered as usual');
});

// Closed hours (docs/agent-history.md, "Closed hours"): two more "containers" in this process run
// the hook's machine (scripts/agent-history-hook) with the real wasm module against the emulator, on the emulator's clock.
const { agentHistoryHook } = require('../scripts/agent-history-hook');
const { clientFor } = require('../scripts/seed-history');

function container() {
  return agentHistoryHook({ context: s.emu.functionEnv(), env: { QUEUE_STATS_TIME_ZONE: 'America/New_York' }, now: () => s.emu.clock.now() });
}
const hourItems = () => {
  const service = s.emu.state.sync.services.get(s.emu.functionEnv().SYNC_SERVICE_SID);
  const map = [...service.maps.values()].find((m) => m.uniqueName === 'agentHours');
  return map ? [...map.items.keys()].sort() : [];
};
const stamp = (ms) => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, '') + 'Z';

test('closed hours: the hook closes the last hour; closed hours answer the same series as the records (the truth); carried forward; claimed once; missing named', async () => {
  // The runtime's hook closed the last ended hour (a minute after it ended, on the real clock).
  const ended = Math.floor((Date.now() - 60000) / HOUR) * HOUR - HOUR;
  assert.ok(
    hourItems().some((k) => k.startsWith(stamp(ended)) || k.startsWith(stamp(ended - HOUR))),
    `closed by the hook: ${hourItems()}`,
  );
  assert.ok(deliveries.some((d) => d.body.agentHistory.closing && d.body.agentHistory.closing.syncReads >= 1));

  // Agent E: Available for half an hour 16 hours before H, then Offline with no event since.
  const E = 'WKeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
  await act(H - 17 * HOUR, E, 'Offline');
  await act(H - 16 * HOUR + 10 * MIN, E, 'Available');
  await act(H - 16 * HOUR + 40 * MIN, E, 'Offline');
  s.emu.clock.resume();

  // The agents with records in the lookback (E, carried forward only by closed hours, is apart).
  const D = 'WKdddddddddddddddddddddddddddddddd';
  const four = [A, B, C, D].join(',');
  const queries = [
    { agent: four, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' },
    { agent: four, from: iso(H), to: iso(H + 2 * HOUR), by: 'agent' },
    { agent: A, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' },
    { agent: 'team:Blue', from: iso(H), to: iso(H + 2 * HOUR), by: 'activity' },
    { agent: four, from: iso(H), to: iso(H + 2 * HOUR), by: 'disposition' },
  ];
  const raw = [];
  for (const q of queries) raw.push((await get(q)).body);
  assert.equal(raw[0].fromRecords, 2);
  assert.ok(raw[0].records > 0);

  // Container X closes H-16h .. H+1 one after another (each carries the last hour's end forward).
  const x = container();
  const y = container();
  for (let t = H - 16 * HOUR; t < H + 2 * HOUR; t += HOUR) {
    const r = await x.closeHour(t);
    assert.ok(['closed', 'stored'].includes(r.state), JSON.stringify(r));
  }
  assert.ok(hourItems().includes(`${stamp(H)}.0`));
  for (const [i, q] of queries.entries()) {
    const { body } = await get(q);
    assert.equal(body.fromRecords, 0, JSON.stringify(q));
    assert.equal(body.records, 0, 'no record read');
    assert.ok(body.hourItems >= 2);
    for (const k of ['series', 'totals', 'agents', 'closedHours', 'from', 'to']) assert.deepEqual(body[k], raw[i][k], `${JSON.stringify(q)}: ${k}`);
  }
  const closedA = (await get(queries[2])).body;
  const truth = aa.truth(ctx, A, H, H + 2 * HOUR);
  assertHour(closedA.series[0], truth[iso(H)], 'closed hour H');
  assertHour(closedA.series[1], truth[iso(H + HOUR)], 'closed hour H+1');

  // E had no event for 15 hours: the records (12 hours back) no longer say where E was; the
  // closed hours carried Offline forward hour after hour.
  const e = (await get({ agent: E, from: iso(H - 2 * HOUR), to: iso(H), by: 'hour' })).body;
  assert.equal(e.fromRecords, 0);
  assert.deepEqual(
    e.series.map((r) => r.activitySeconds),
    [{ Offline: 3600 }, { Offline: 3600 }],
  );

  // Closing again (another container) finds the hour stored: nothing written.
  const again = await y.closeHour(H);
  assert.equal(again.state, 'stored');
  assert.equal(again.syncWrites, 0);
  // Two containers closing the same hour at once: one claim wins, the hour's items are written once.
  const h2 = H - 18 * HOUR;
  const before = hourItems().length;
  const both = await Promise.all([x.closeHour(h2), y.closeHour(h2)]);
  const winner = both.find((r) => r.state === 'closed');
  const other = both.find((r) => r !== winner);
  assert.ok(winner && ['held', 'stored'].includes(other.state), JSON.stringify(both));
  assert.ok(winner.items >= 1);
  assert.equal(hourItems().length, before + winner.items, 'the hour written once');
  assert.ok(other.syncWrites <= 1, `the other container wrote at most its refused claim: ${JSON.stringify(other)}`);
  // A claim held by another container (its lease running): the hour is left to it.
  const env = s.emu.functionEnv();
  const h3 = H - 19 * HOUR;
  await clientFor(s.emu)
    .sync.v1.services(env.SYNC_SERVICE_SID)
    .syncMaps('agentHoursClaims')
    .syncMapItems.create({
      key: stamp(h3),
      data: { hour: iso(h3), owner: 'another-container', kind: 'hook', atMs: s.emu.clock.now(), untilMs: s.emu.clock.now() + 300000 },
    });
  const held = await y.closeHour(h3);
  assert.equal(held.state, 'held');
  assert.equal(held.syncWrites, 0);
  assert.ok(!hourItems().some((k) => k.startsWith(stamp(h3))));

  // Hours not closed are read from the records; a records listing that fails is named in missing.
  const open = { from: iso(H - 20 * HOUR), to: iso(H - 16 * HOUR), by: 'hour' };
  const full = (await get(open)).body;
  assert.equal(full.fromRecords, 3); // H-20h, H-19h (held), H-17h; H-18h is closed
  assert.deepEqual(full.missing, []);
  s.emu.failNext({ path: '/Maps/agentHistory.' }, { status: 500, code: 20500, message: 'injected' });
  const partial = (await get(open)).body;
  assert.equal(partial.missing.length, 1, JSON.stringify(partial.missing));
  assert.match(partial.missing[0].map, /^agentHistory\./);
  assert.match(partial.missing[0].reason, /injected/);
  // An agentHours listing that fails sends its hours to the records: the same series.
  s.emu.failNext({ path: '/Maps/agentHours/' }, { status: 500, code: 20500, message: 'injected' });
  const fallback = (await get(queries[0])).body;
  s.emu.clearFaults();
  assert.ok(fallback.fromRecords > 0);
  assert.deepEqual(fallback.series, raw[0].series);
});
