// Configuration validation through the real wasm module: every bad value is rejected with a
// message naming the rule or schedule and the value; the published example configs all load.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { root } = require('./helpers/runtime');
const { ScheduleBook } = require('../functions/wasm/schedule.private.js');

const fixtures = path.join(root, 'tests', 'fixtures', 'schedule');

const rule = (extra) => ({ id: 'r1', name: 'Office hours', isOpen: true, ...extra });
const config = (rules, schedule = {}) =>
  JSON.stringify({
    rules,
    schedules: [{ name: 'Support', manualClose: false, timeZone: 'America/New_York', rules: ['r1'], ...schedule }],
  });

function rejects(json, ...patterns) {
  assert.throws(
    () => new ScheduleBook(json),
    (err) => patterns.every((p) => p.test(err.message)) && typeof err.code === 'string',
  );
}

test('the shipped config and every published example config load', () => {
  for (const file of [
    path.join(root, 'assets', 'config.private.json'),
    ...['australia-holidays-2023.json', 'canada-holidays-2023.json', 'united-states-holidays-2023.json', 'multi-site.json'].map((f) => path.join(fixtures, f)),
  ]) {
    const book = new ScheduleBook(fs.readFileSync(file, 'utf8'));
    assert.ok(book.scheduleNames().length > 0, file);
  }
});

test('a schedule naming a deleted rule loads, skips it and warns', () => {
  const book = new ScheduleBook(fs.readFileSync(path.join(fixtures, 'multi-site.json'), 'utf8'));
  assert.deepEqual(book.warnings(), ['schedule "Legacy" references rule id "deleted-rule-id", which does not exist; it is skipped']);
});

test('an invalid time zone names the schedule and the zone', () => {
  rejects(config([rule()], { timeZone: 'America/NewYork' }), /schedule "Support"/, /timeZone "America\/NewYork"/, /IANA/);
});

test('an invalid RRULE names the rule, the value and what is wrong', () => {
  rejects(config([rule({ dateRRule: 'RRULE:FREQ=WEEKLY;INTERVAL=0' })]), /"Office hours"/, /dateRRule/, /INTERVAL/);
  rejects(config([rule({ dateRRule: 'RRULE:FREQ=SOMETIMES' })]), /"Office hours"/, /SOMETIMES/);
  rejects(config([rule({ dateRRule: 'RRULE:FREQ=WEEKLY;BYDAY=XX' })]), /"Office hours"/, /XX/);
});

test('invalid dates and times name the field and the value', () => {
  rejects(config([rule({ startDate: '2024-02-30' })]), /"Office hours"/, /startDate "2024-02-30"/, /YYYY-MM-DD/);
  rejects(config([rule({ startDate: '2024-05-01', endDate: '2024-04-01' })]), /endDate "2024-04-01"/, /before startDate/);
  rejects(config([rule({ startTime: '9am', endTime: '17:00' })]), /startTime "9am"/, /HH:MM/);
  rejects(config([rule({ startTime: '09:00', endTime: '24:30' })]), /endTime "24:30"/);
  rejects(config([rule({ startTime: '09:00', endTime: '09:00' })]), /equals endTime/);
});

test('invalid structure and references are rejected', () => {
  rejects('{"rules": [', /not valid JSON/);
  rejects(JSON.stringify({ rules: [rule()] }), /schedules/);
  rejects(config([rule(), rule()]), /id "r1"/, /more than one rule/);
  rejects(config([rule()], { rules: [{ id: 'r1' }] }), /not valid JSON/);
});

test('isOpen answers just the published pair, and errors carry a code', () => {
  const book = new ScheduleBook(config([rule({ startTime: '09:00', endTime: '17:00' })]));
  assert.deepEqual(book.isOpen('Support', '2026-11-23T10:00', Date.now()), { isOpen: true, closedReason: '' });
  assert.throws(
    () => book.isOpen('Nope', undefined, Date.now()),
    (e) => e.code === 'schedule_not_found',
  );
  assert.throws(
    () => book.isOpen('Support', 'soon', Date.now()),
    (e) => e.code === 'invalid_simulate',
  );
});

test('a large deployed config compiled per schedule on first check answers as one compiled whole', () => {
  // Over 16 KiB, ScheduleBook.load only reads the document and compiles a schedule on its first
  // check (crates/schedule/src/lazy.rs); scheduleNames() compiles it whole. Broken rules, a
  // duplicate rule id, a duplicate schedule name and a bad zone must break the same schedules.
  const rules = [];
  for (let i = 0; i < 120; i++) {
    rules.push({
      id: `r${i}`,
      name: `Rule ${i} `.padEnd(60, 'x'),
      isOpen: i % 3 !== 0,
      closedReason: i % 3 ? undefined : `reason ${i}`,
      startTime: `${String(6 + (i % 10)).padStart(2, '0')}:00`,
      endTime: `${String(12 + (i % 10)).padStart(2, '0')}:30`,
      dateRRule: ['RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR', 'RRULE:FREQ=DAILY;COUNT=500', 'RRULE:FREQ=MONTHLY;BYDAY=-1FR'][i % 3],
      startDate: '2026-01-01',
    });
  }
  rules.push({ id: 'bad', name: 'Bad', isOpen: true, dateRRule: 'FREQ=SOMETIMES' }, { id: 'r5', name: 'Again', isOpen: true });
  const schedules = [];
  for (let s = 0; s < 40; s++) {
    schedules.push({
      name: `S${s % 38}`,
      timeZone: ['America/New_York', 'Europe/London', 'Asia/Kolkata', 'Mars/Base'][s % 4],
      rules: Array.from({ length: 8 }, (_, k) => `r${(s * 7 + k) % 120}`).concat(s % 5 === 0 ? ['bad'] : [], s % 6 === 0 ? ['gone'] : []),
    });
  }
  const text = JSON.stringify({ rules, schedules }, null, 2);
  assert.ok(text.length > 16384, `${text.length} bytes`);
  const whole = ScheduleBook.load(text);
  const names = whole.scheduleNames();
  assert.ok(whole.problems().length > 0);
  let broken = 0;
  for (const ms of [Date.parse('2026-12-04T15:00:00Z'), Date.parse('2027-03-26T20:00:00Z')]) {
    const lazy = ScheduleBook.load(text);
    for (const name of [...names, 'Nope']) {
      const want = whole.check(name, undefined, ms);
      assert.deepEqual(lazy.check(name, undefined, ms), want, name);
      if (want.status !== 200) broken++;
    }
    assert.deepEqual(lazy.problems(), whole.problems());
    assert.deepEqual(lazy.warnings(), whole.warnings());
  }
  assert.ok(broken > 4, `${broken} broken answers`);
});
