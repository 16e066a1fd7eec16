// One DST rule through the real wasm modules (values::time::DST_RULE): a wall time the clocks skip
// is the same instant in check-schedule, the queue history and live queue statistics. Nothing is
// started: the modules are loaded as the Functions load them.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ScheduleBook } = require('../functions/wasm/schedule.private.js');
const { History } = require('../functions/wasm/history.private.js');
const { QueueStats } = require('../functions/wasm/queue_stats.private.js');

// A "now" well after the days asked about, fixed so the test never depends on the clock.
const NOW = Date.parse('2026-03-20T12:00:00Z');

// A schedule open for one minute a day, from `start`, in `timeZone`.
function oneMinute(timeZone, start, end) {
  return new ScheduleBook(
    JSON.stringify({
      rules: [{ id: 'r1', name: 'One minute', isOpen: true, startTime: start, endTime: end }],
      schedules: [{ name: 'S', manualClose: false, timeZone, rules: ['r1'] }],
    }),
  );
}

const historyTo = (timeZone, from, to, now = NOW) => new History({ QUEUE_STATS_TIME_ZONE: timeZone }).query({ from, to, backfill: 'false' }, now).to;

test('02:30 on a New York spring-forward day is 07:30Z (03:30 EDT) in the schedule and in the queue history', () => {
  // The gap is 02:00-03:00 local: the wall time moves forward by the gap's length.
  const instant = '2026-03-08T07:30:00Z';
  assert.equal(historyTo('America/New_York', '2026-03-08T00:00', '2026-03-08T02:30'), instant);

  // Open exactly 03:30-03:31 EDT, i.e. 07:30Z-07:31Z: the wall time is open, and answers exactly
  // as the instant does; a second earlier and a minute later are closed.
  const book = oneMinute('America/New_York', '03:30', '03:31');
  const atWall = book.check('S', '2026-03-08T02:30', NOW);
  assert.equal(atWall.body.isOpen, true, JSON.stringify(atWall));
  assert.deepEqual(atWall, book.check('S', instant, NOW));
  assert.equal(book.check('S', '2026-03-08T07:29:59Z', NOW).body.isOpen, false);
  assert.equal(book.check('S', '2026-03-08T07:31:00Z', NOW).body.isOpen, false);
});

test('a midnight the clocks skip (Santiago, 2024-09-08) starts the day at 04:00Z in all three', () => {
  // Santiago springs forward at 24:00 on 2024-09-07: 00:00-01:00 on the 8th does not happen.
  const instant = '2024-09-08T04:00:00Z';
  const now = Date.parse('2024-09-08T15:00:00Z');
  const services = { WORKSPACE_SID: `WS${'a'.repeat(32)}`, TWILIO_FLEX_SYNC_SID: `IS${'b'.repeat(32)}` }; // the instance needs them
  const stats = new QueueStats({ QUEUE_STATS_TIME_ZONE: 'America/Santiago', ...services });
  assert.equal(stats.statisticsParams(now).startDate, instant);
  assert.equal(historyTo('America/Santiago', '2024-09-07T20:00', '2024-09-08T00:00', now), instant);
  const history = new History({ QUEUE_STATS_TIME_ZONE: 'America/Santiago' });
  assert.equal(history.query({ from: '2024-09-08', to: '2024-09-08', backfill: 'false' }, now).from, instant);

  const book = oneMinute('America/Santiago', '01:00', '01:01');
  const atWall = book.check('S', '2024-09-08T00:00', now);
  assert.equal(atWall.body.isOpen, true, JSON.stringify(atWall));
  assert.deepEqual(atWall, book.check('S', instant, now));
  assert.equal(book.check('S', '2024-09-08T03:59:59Z', now).body.isOpen, false);
});
