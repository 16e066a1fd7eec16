// Agent history: late events, closed days and retention, end to end. The emulator's agents move
// on its held clock; their events reach the real event callback (twilio-run) whose hook records
// them through the real agent-history wasm module. Hours are closed by a second "container"
// (the hook's machine, scripts/agent-history-hook, in this process, on the emulator's clock), as another Function container
// would; then some events arrive late through the callback, and the closed hours and days must
// give what they would have given had every event come on time: the emulator's ground truth.
// Hours matter here (the hours H.. before now that the test closes): every process reads a clock pinned to a half hour.
require('./helpers/clock').pinNow();
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers/stack');
const aa = require('../emulator/agent-activity');
const { agentHistoryHook } = require('../scripts/agent-history-hook');
const { clientFor } = require('../scripts/seed-history');

const HOUR = 3600000;
const MIN = 60000;
const DAY = 24 * HOUR;
const ZONE = 'America/New_York';
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
// The start of the UTC hour four hours ago (New York's hours start on UTC hours).
const H = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
// New York's date of H − 24 h, and its bounds (a whole local day that ended before H).
const localDate = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
const D1 = localDate(H - DAY);

const L = 'WKllllllllllllllllllllllllllllllll'.replace(/l/g, '1');
const N = 'WKnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn'.replace(/n/g, '2');
const M = 'WKmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm'.replace(/m/g, '3');

let s;
let ctx;
let supervisor;
let url;
let dayStart;
let dayEnd;
const withheld = []; // events recorded by the emulator but not delivered (yet)
const sent = [];

const at = (ms) => s.emu.clock.hold(ms);
async function act(ms, worker, activity, hold = false) {
  at(ms);
  const saved = ctx.state.contactCenter.callbackUrl;
  if (hold) ctx.state.contactCenter.callbackUrl = null;
  const r = await aa.setActivity(ctx, worker, activity, { friendlyName: worker === L ? 'Lena' : worker === N ? 'Nils' : 'Mia' });
  ctx.state.contactCenter.callbackUrl = saved;
  if (!r.params) return; // already there: no event (the agent's first state)
  if (hold) withheld.push(r.params);
  else sent.push(r.delivery);
}
async function step(ms, worker, reservation, name, attributes, hold = false) {
  at(ms);
  const saved = ctx.state.contactCenter.callbackUrl;
  if (hold) ctx.state.contactCenter.callbackUrl = null;
  const r = await aa.reservationStep(ctx, worker, reservation, name, { attributes });
  ctx.state.contactCenter.callbackUrl = saved;
  if (hold) withheld.push(r.params);
  else sent.push(r.delivery);
}

/** A "container" of the functions in this process, on the emulator's clock. */
function container() {
  return agentHistoryHook({ context: s.emu.functionEnv(), env: { QUEUE_STATS_TIME_ZONE: ZONE }, now: () => s.emu.clock.now() });
}

const service = () => s.emu.state.sync.services.get(s.emu.functionEnv().SYNC_SERVICE_SID);
const mapItems = (name) => {
  const map = [...service().maps.values()].find((m) => m.uniqueName === name);
  return map ? [...map.items.values()].map((i) => [i.key, JSON.stringify(i.data)]).sort() : [];
};

async function get(query) {
  const res = await fetch(s.rt.url(`/agent-history?${new URLSearchParams(query)}`), { headers: { Authorization: `Bearer ${supervisor}` } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

/** The emulator's truth summed over [from, to): seconds per activity and the counts. */
function truthOf(worker, from, to) {
  const t = aa.truth(ctx, worker, from, to);
  const out = { activitySeconds: {}, accepted: 0, rejected: 0, completed: 0, wrapped: 0, dispositions: {} };
  for (const hour of Object.values(t)) {
    for (const [a, ms] of Object.entries(hour.activityMs)) out.activitySeconds[a] = (out.activitySeconds[a] || 0) + ms / 1000;
    for (const k of ['accepted', 'rejected', 'completed', 'wrapped']) out[k] += hour[k];
    for (const [d, n] of Object.entries(hour.dispositions)) out.dispositions[d] = (out.dispositions[d] || 0) + n;
  }
  return out;
}
const figuresOf = (row) => ({ activitySeconds: row.activitySeconds, accepted: row.accepted, rejected: row.rejected, completed: row.completed, wrapped: row.wrapped, dispositions: row.dispositions });
const round = (o) => JSON.parse(JSON.stringify(o, (k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));

before(async () => {
  s = await startStack({ env: { QUEUE_STATS_TIME_ZONE: ZONE, QUEUE_HISTORY_ENABLED: 'false' } });
  ctx = s.emu.ctx;
  supervisor = s.emu.makeToken({ identity: 'sue', roles: ['supervisor'] }).token;
  url = s.rt.url('/realtimestats-updateQueueStatistics');
  const first = await get({ from: D1, to: D1, by: 'date' });
  dayStart = Date.parse(first.from);
  dayEnd = Date.parse(first.to);
  // Nils, on D1's evening: Available 19:00–22:00 local with a break and two calls; the break's
  // start and one wrap-up are withheld (delivered late, below).
  const e = dayEnd - 5 * HOUR; // 19:00 local (New York's days are 23–25 hours: counted from the end)
  await act(e - 2 * HOUR, N, 'Offline');
  await act(e, N, 'Available');
  await step(e + 10 * MIN, N, 'WR0000000000000000000000000000000a', 'accepted');
  await step(e + 14 * MIN, N, 'WR0000000000000000000000000000000a', 'wrapup', { conversations: { outcome: 'Sale' } }, true);
  await step(e + 16 * MIN, N, 'WR0000000000000000000000000000000a', 'completed');
  await act(e + 70 * MIN, N, 'Break', true);
  await act(e + 95 * MIN, N, 'Available');
  await step(e + 120 * MIN, N, 'WR0000000000000000000000000000000b', 'rejected');
  await act(e + 3 * HOUR, N, 'Offline');
  // Lena and Mia around H; Lena's first acceptance and her break are withheld (the break's span is
  // known anyway from the next change's time in the previous activity; the acceptance is not).
  await act(H - 30 * MIN, L, 'Available');
  await act(H - 20 * MIN, M, 'Available');
  await step(H + 10 * MIN, L, 'WR0000000000000000000000000000000c', 'accepted', undefined, true);
  await step(H + 14 * MIN, L, 'WR0000000000000000000000000000000c', 'wrapup', { conversations: { outcome: 'Callback' } });
  await step(H + 16 * MIN + 321, L, 'WR0000000000000000000000000000000c', 'completed');
  await act(H + 20 * MIN + 1234, L, 'Break', true);
  await act(H + 35 * MIN, L, 'Available');
  await act(H + 50 * MIN, M, 'Offline');
  await act(H + HOUR + 30 * MIN, L, 'Offline');
  s.emu.clock.resume();
  for (const d of sent) assert.equal(d.status, 200);
});

after(async () => {
  if (s) await s.stop();
});

test('late events close the closed hours and days again: the same answer as on time, the ground truth; duplicates change nothing', async () => {
  // Another container closes every hour from D1's start to H + 2 h, one after another; the last
  // hour of D1 sums the day into agentDays.
  const x = container();
  for (let t = dayStart; t < H + 2 * HOUR; t += HOUR) {
    const r = await x.closeHour(t);
    assert.ok(['closed', 'stored'].includes(r.state), JSON.stringify(r));
  }
  const days = mapItems('agentDays');
  assert.ok(
    days.some(([k]) => k.startsWith(`${D1.replace(/-/g, '')}.`)),
    JSON.stringify(days.map(([k]) => k)),
  );

  // Before the late events: answered from closed days and hours, not the truth.
  const dayQuery = { agent: N, from: D1, to: D1, by: 'date' };
  const allDay = { from: D1, to: D1, by: 'activity' };
  const hourQuery = { agent: L, from: iso(H), to: iso(H + 2 * HOUR), by: 'hour' };
  const early = await get(dayQuery);
  assert.equal(early.fromDays, 1);
  assert.equal(early.fromRecords, 0);
  assert.equal(early.records, 0);
  assert.notDeepEqual(round(figuresOf(early.series[0])), round(truthOf(N, dayStart, dayEnd)));
  const earlyHours = await get(hourQuery);
  assert.equal(earlyHours.fromRecords, 0);
  assert.notDeepEqual(round(figuresOf(earlyHours.series[0])), round(truthOf(L, H, H + HOUR)));
  assert.equal(earlyHours.series[0].handled, 0);

  // The withheld events arrive now, newest first, through the real callback.
  let patched = 0;
  for (const params of withheld.slice().reverse()) {
    const r = await ctx.deliver(url, params);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body).agentHistory;
    assert.equal(body.written, true, JSON.stringify(body));
    assert.ok(!body.reclose.error, JSON.stringify(body.reclose));
    assert.ok(body.reclose.hours, `${params.EventType}: closed hours not considered: ${JSON.stringify(body.reclose)}`);
    patched += body.reclose.patched;
  }
  assert.ok(patched >= 2, `rows closed again: ${patched}`);
  const late = await get(dayQuery);
  assert.equal(late.fromDays, 1, 'the day was summed again');
  assert.equal(late.records, 0);
  assert.deepEqual(round(figuresOf(late.series[0])), round(truthOf(N, dayStart, dayEnd)));
  assert.deepEqual(late.series[0].dispositions, { Sale: 1 });
  assert.equal(late.series[0].wrapped, 1);
  const lateHours = await get(hourQuery);
  assert.equal(lateHours.fromRecords, 0);
  assert.equal(lateHours.records, 0);
  for (const [i, h] of [H, H + HOUR].entries()) {
    assert.deepEqual(round(figuresOf(lateHours.series[i])), round(truthOf(L, h, h + HOUR)), iso(h));
    assert.equal(lateHours.series[i].observedSeconds, 3600);
  }
  assert.deepEqual(lateHours.series[0].activitySeconds, { Available: 2701.234, Break: 898.766 });
  assert.equal(lateHours.series[0].avgHandle, (6 * MIN + 321) / 1000);

  // The same day from its closed hours alone (agentDays set aside for a moment) is the same answer.
  const fromDays = await get(allDay);
  const days2 = [...service().maps.values()].find((m) => m.uniqueName === 'agentDays');
  days2.uniqueName = 'agentDays-aside';
  const fromHours = await get(allDay);
  days2.uniqueName = 'agentDays';
  assert.equal(fromHours.fromDays, 0);
  assert.equal(fromHours.fromRecords, 0);
  assert.deepEqual(fromHours.series, fromDays.series);
  assert.deepEqual(fromHours.totals, fromDays.totals);
  assert.equal(fromDays.fromDays, 1);

  // Every event again, shuffled (duplicates, out of order): nothing written, nothing re-closed.
  const hoursBefore = mapItems('agentHours');
  const daysBefore = mapItems('agentDays');
  const everything = ctx.state.agentActivity.delivered.filter((p) => [L, N, M].includes(p.WorkerSid));
  for (const i of [5, 0, 9, 3, 12, 1, 7, 14, 2, 11, 4, 13, 6, 10, 8, 15, 16, 17, 18]) {
    if (!everything[i]) continue;
    const r = await ctx.deliver(url, everything[i]);
    const body = JSON.parse(r.body).agentHistory;
    assert.equal(body.written, false);
    assert.equal(body.reclose, undefined);
  }
  assert.deepEqual(mapItems('agentHours'), hoursBefore);
  assert.deepEqual(mapItems('agentDays'), daysBefore);
  assert.deepEqual(await get(dayQuery), late);
});

test('closed hours and days past retention are deleted as hours close, on the emulator clock', async () => {
  const x = container();
  const sync = clientFor(s.emu).sync.v1.services(s.emu.functionEnv().SYNC_SERVICE_SID);
  // An hour and a day 401 days before now, stored as the hook would have, and a newer one kept.
  const old = H - 401 * DAY;
  const stamp = (ms) => new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, '') + 'Z';
  const kept = H - 399 * DAY;
  for (const t of [old, old + HOUR, kept])
    await sync.syncMaps('agentHours').syncMapItems.create({ key: `${stamp(t)}.0`, data: { v: 1, start: iso(t), end: iso(t + HOUR), chunk: 0, chunks: 1, n: [], a: {} } });
  const oldDay = localDate(H - 403 * DAY).replace(/-/g, '');
  const keptDay = localDate(H - 398 * DAY).replace(/-/g, '');
  for (const d of [oldDay, keptDay]) await sync.syncMaps('agentDays').syncMapItems.create({ key: `${d}.0`, data: { v: 1 } });
  // The clock moves on one hour; the next hour closed prunes what is past 400 days.
  at(H + 3 * HOUR);
  const r = await x.closeHour(H + 2 * HOUR);
  s.emu.clock.resume();
  assert.equal(r.state, 'closed');
  const hours = mapItems('agentHours').map(([k]) => k);
  const days = mapItems('agentDays').map(([k]) => k);
  assert.ok(!hours.includes(`${stamp(old)}.0`) && !hours.includes(`${stamp(old + HOUR)}.0`), 'old hours deleted');
  assert.ok(hours.includes(`${stamp(kept)}.0`), 'a younger hour is kept');
  assert.ok(hours.includes(`${stamp(H + 2 * HOUR)}.0`));
  assert.ok(!days.includes(`${oldDay}.0`), 'the old day deleted');
  assert.ok(days.includes(`${keptDay}.0`), 'a younger day is kept');
  assert.ok(days.some((k) => k.startsWith(D1.replace(/-/g, ''))));
});
