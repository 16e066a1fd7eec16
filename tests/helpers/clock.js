// A pinned "now" for test files whose hours matter ("the last closed hour", "yesterday", a day
// key): a file that computes an hour from Date.now() while the runtime computes it a moment later
// breaks when an hour (or a day) turns in between. `pinNow()` moves this process's clock, and the
// clock of every process it starts afterwards (twilio-run, scripts) and of the pages its browser
// opens, to the half hour: the file then has 30 minutes before any hour boundary. Time still runs
// (timers, TTLs and rate windows behave as usual); every process reads the same shifted time.
//
//   require('./helpers/clock').pinNow(); // first thing in the test file, before reading Date.now()
//   require('./helpers/clock').pinNow({ utcHour: 12 }); // 12:30 UTC, today or the nearest day
//
// Child processes inherit TEST_CLOCK_OFFSET_MS and `--require` this file through NODE_OPTIONS;
// tests/helpers/browser.js installs the same shift in its pages.
const HOUR = 3600000;
const OFFSET_VAR = 'TEST_CLOCK_OFFSET_MS';

/**
 * Replaces `Date` so that `Date.now()` and `new Date()` read the real time plus `offset` ms; a
 * date built from a value is unchanged. Self-contained: it also runs in a page (addInitScript).
 */
function shiftDate(offset) {
  const RealDate = globalThis.Date;
  if (RealDate.shiftedBy !== undefined) return;
  const now = () => RealDate.now() + offset;
  function ShiftedDate(...args) {
    if (!new.target) return new RealDate(now()).toString();
    return args.length === 0 ? new RealDate(now()) : new RealDate(...args);
  }
  Object.setPrototypeOf(ShiftedDate, RealDate);
  ShiftedDate.prototype = RealDate.prototype;
  ShiftedDate.now = now;
  ShiftedDate.shiftedBy = offset;
  globalThis.Date = ShiftedDate;
}

/** The shift in force in this process (0 when the clock is not pinned). */
const offsetMs = () => Number(process.env[OFFSET_VAR]) || 0;

/**
 * Pins this process and the processes it starts to the half hour of the current hour, or with
 * `{utcHour}` to that hour's half past in UTC on the nearest day (within ±12 hours): a file whose
 * "last 7 days" must hold seven dates with closed hours cannot run just after midnight.
 */
function pinNow({ utcHour } = {}) {
  if (process.env[OFFSET_VAR] !== undefined) return offsetMs();
  const real = Date.now();
  const DAY = 24 * HOUR;
  const target = utcHour === undefined ? Math.floor(real / HOUR) * HOUR + HOUR / 2 : Math.floor(real / DAY) * DAY + utcHour * HOUR + HOUR / 2;
  const offset = utcHour === undefined ? target - real : ((((target - real) % DAY) + DAY + DAY / 2) % DAY) - DAY / 2; // within ±30 minutes, or ±12 hours
  process.env[OFFSET_VAR] = String(offset);
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS || ''} --require ${JSON.stringify(__filename)}`.trim();
  shiftDate(offset);
  return offset;
}

// Loaded through NODE_OPTIONS in a process a pinned test started: take the same shift.
if (process.env[OFFSET_VAR] !== undefined) shiftDate(offsetMs());

module.exports = { pinNow, shiftDate, offsetMs };
