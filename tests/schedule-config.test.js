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
    ...['australia-holidays-2023.json', 'canada-holidays-2023.json', 'united-states-holidays-2023.json', 'multi-site.json'].map((f) =>
      path.join(fixtures, f),
    ),
  ]) {
    const book = new ScheduleBook(fs.readFileSync(file, 'utf8'));
    assert.ok(book.scheduleNames().length > 0, file);
  }
});

test('a schedule naming a deleted rule loads, skips it and warns', () => {
  const book = new ScheduleBook(fs.readFileSync(path.join(fixtures, 'multi-site.json'), 'utf8'));
  assert.deepEqual(book.warnings(), [
    'schedule "Legacy" references rule id "deleted-rule-id", which does not exist; it is skipped',
  ]);
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
  assert.throws(() => book.isOpen('Nope', undefined, Date.now()), (e) => e.code === 'schedule_not_found');
  assert.throws(() => book.isOpen('Support', 'soon', Date.now()), (e) => e.code === 'invalid_simulate');
});
