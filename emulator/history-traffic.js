// Synthetic past traffic for queue history (a dev/test tool): days of task steps and agent shifts
// stepped straight into the emulator's TaskRouter state on its clock, moved back and forth through
// the days and restored, so a week takes seconds. No event callbacks are sent.
//
//   const { stepHistory } = require('./history-traffic');
//   stepHistory(emu.ctx, { days: 7, queues: ['Sales', 'Support'], seed: 42 })   // -> {queues: [{sid, friendlyName}], tasks, from, to}
//   POST /emulator/history/seed {days, queues}                                   // the same, for a running emulator
//
// Traffic: weekday peaks at 10–11 h and 14–15 h UTC, quieter nights and weekends; waits, abandons
// (12 %) and handle times drawn from a fixed-seed PRNG; three agents per queue on a 08–20 h shift
// with a break at noon. Queues named like existing ones are reused.
const trs = require('./taskrouter-stats');

const HOUR = 3600000;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean tasks per hour at a UTC hour and weekday for a queue of relative `size`. */
function arrivals(hour, weekday, size) {
  const open = hour >= 8 && hour < 20;
  const peak = hour === 10 || hour === 11 || hour === 14 || hour === 15;
  const base = open ? (peak ? 14 : 8) : 1;
  return base * size * (weekday === 0 || weekday === 6 ? 0.4 : 1);
}

function stepHistory(ctx, { days = 7, queues = ['Sales', 'Support', 'Billing'], seed = 42, now = Date.now() } = {}) {
  const { clock } = ctx;
  const random = rng(seed);
  const at = (ms) => clock.advance(ms - clock.now());
  const end = Math.floor(now / HOUR) * HOUR;
  // From midnight (UTC) `days` days back, so "last 7 days" is covered from its first hour.
  const start = Math.floor((end - days * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR;
  const existing = [...ctx.state.taskqueues.queues.values()];
  const made = queues.map((name, i) => ({
    q: existing.find((q) => q.friendlyName === name) || trs.createQueue(ctx, { friendlyName: name }),
    size: 1 + (queues.length - i) / queues.length,
  }));
  let tasks = 0;
  let n = 0;
  for (let hour = start; hour < end; hour += HOUR) {
    const d = new Date(hour);
    for (const { q, size } of made) {
      [0, 1, 2].forEach((k) => {
        const worker = `WK${q.sid.slice(2, 10)}${'0'.repeat(23)}${k}`;
        at(hour + k * 60000);
        const h = d.getUTCHours();
        const weekend = d.getUTCDay() % 6 === 0;
        const activity = h >= 8 && h < 20 && !(weekend && k > 0) ? (h === 12 && k === 1 ? 'Break' : 'Available') : 'Offline';
        if (!q.workerSids.has(worker)) trs.addWorker(ctx, q.sid, worker, { activity, friendlyName: `${q.friendlyName.toLowerCase()}-history-${k + 1}` });
        else trs.setActivity(ctx, worker, activity);
      });
      const count = Math.round(arrivals(d.getUTCHours(), d.getUTCDay(), size) * (0.6 + 0.8 * random()));
      for (let k = 0; k < count; k++) {
        const task = `WT${(seed % 65536).toString(16).padStart(4, '0')}${(++n).toString(16).padStart(28, '0')}`;
        const entered = hour + Math.floor(random() * HOUR);
        const channel = random() < 0.7 ? 'voice' : 'chat';
        const wait = Math.floor(random() * random() * 180000);
        at(entered);
        trs.taskStep(ctx, q.sid, task, 'entered', { channel });
        if (random() < 0.12) {
          at(entered + Math.min(wait, 90000));
          trs.taskStep(ctx, q.sid, task, 'canceled');
        } else {
          at(entered + wait);
          trs.taskStep(ctx, q.sid, task, 'reserved');
          trs.taskStep(ctx, q.sid, task, 'accepted');
          at(entered + wait + 60000 + Math.floor(random() * 480000));
          trs.taskStep(ctx, q.sid, task, 'wrapup');
          at(clock.now() + 30000);
          trs.taskStep(ctx, q.sid, task, 'completed');
        }
        tasks += 1;
      }
    }
  }
  at(now);
  return { queues: made.map(({ q }) => ({ sid: q.sid, friendlyName: q.friendlyName })), tasks, from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

module.exports = { stepHistory };
