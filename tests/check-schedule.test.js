// check-schedule end to end: the real twilio-run serving the shipped config and wasm module.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('./helpers/runtime');

let rt;
before(async () => {
  rt = await startRuntime();
});
after(() => rt.stop());

async function check(params) {
  const res = await fetch(rt.url(`/check-schedule?${new URLSearchParams(params)}`));
  return { status: res.status, headers: res.headers, body: await res.json() };
}

test('an open weekday answers the published fields plus timeZone, matchedRule and nextChange', async () => {
  const { status, headers, body } = await check({ name: 'Support', simulate: '2026-11-23T10:00' });
  assert.equal(status, 200);
  assert.equal(headers.get('access-control-allow-origin'), '*');
  assert.match(headers.get('content-type'), /application\/json/);
  assert.deepEqual(body, {
    isOpen: true,
    closedReason: '',
    timeZone: 'America/New_York',
    matchedRule: 'Weekday hours',
    nextChange: '2026-11-23T12:30:00-05:00',
  });
});

test('a closed rule wins over an open one and gives its reason', async () => {
  const { body } = await check({ name: 'Support', simulate: '2026-11-23T12:45' });
  assert.deepEqual(body, {
    isOpen: false,
    closedReason: 'lunch',
    timeZone: 'America/New_York',
    matchedRule: 'Lunch closure',
    nextChange: '2026-11-23T13:15:00-05:00',
  });
});

test('a holiday by ordinal weekday (4th Thursday of November) closes the whole day', async () => {
  const { body } = await check({ name: 'Support', simulate: '2026-11-26T10:00' });
  assert.equal(body.isOpen, false);
  assert.equal(body.closedReason, 'holiday');
  assert.equal(body.matchedRule, 'Thanksgiving');
  assert.equal(body.nextChange, '2026-11-27T08:00:00-05:00');
});

test('no matching rule is closed with reason "closed" and says when it opens', async () => {
  const { body } = await check({ name: 'Support', simulate: '2026-11-28T14:00' });
  assert.equal(body.isOpen, false);
  assert.equal(body.closedReason, 'closed');
  assert.equal(body.matchedRule, null);
  assert.equal(body.nextChange, '2026-11-30T08:00:00-05:00');
});

test('nextChange crosses a DST change with the new offset', async () => {
  // Sunday 2026-03-08 is the spring-forward day in New York; Monday opens at 08:00 EDT.
  const { body } = await check({ name: 'Support', simulate: '2026-03-08T10:00' });
  assert.equal(body.isOpen, false);
  assert.equal(body.nextChange, '2026-03-09T08:00:00-04:00');
});

test('simulate with an offset is that instant, converted to the schedule zone', async () => {
  assert.equal((await check({ name: 'Support', simulate: '2026-11-23T15:00:00Z' })).body.isOpen, true);
  const early = await check({ name: 'Support', simulate: '2026-11-23T07:59:00-05:00' });
  assert.equal(early.body.isOpen, false);
  assert.equal(early.body.nextChange, '2026-11-23T08:00:00-05:00');
  // 14:00 in Paris is 08:00 in New York.
  assert.equal((await check({ name: 'Support', simulate: '2026-11-23T14:00:00+01:00' })).body.isOpen, true);
});

test('an overnight rule runs from its start on a matching date to its end the next day', async () => {
  const tuesdayNight = await check({ name: 'Night support', simulate: '2026-11-24T03:00' });
  assert.equal(tuesdayNight.body.isOpen, true);
  assert.equal(tuesdayNight.body.matchedRule, 'Night line');
  assert.equal(tuesdayNight.body.nextChange, '2026-11-24T06:00:00-06:00');
  assert.equal((await check({ name: 'Night support', simulate: '2026-11-23T22:00' })).body.isOpen, true);
  assert.equal((await check({ name: 'Night support', simulate: '2026-11-23T21:59' })).body.isOpen, false);
  // Friday night is not in the rule, so Saturday 03:00 is closed.
  assert.equal((await check({ name: 'Night support', simulate: '2026-11-28T03:00' })).body.isOpen, false);
});

test('INTERVAL=2 fires every other week from startDate', async () => {
  const meetingWeek = await check({ name: 'Sales', simulate: '2026-11-27T16:30' });
  assert.equal(meetingWeek.body.closedReason, 'team meeting');
  const offWeek = await check({ name: 'Sales', simulate: '2026-11-20T16:30' });
  assert.equal(offWeek.body.isOpen, true);
  assert.equal(offWeek.body.timeZone, 'Europe/London');
});

test('a manually closed schedule is closed with reason "manual" and no next change', async () => {
  const { body } = await check({ name: 'Billing', simulate: '2026-11-23T10:00' });
  assert.deepEqual(body, {
    isOpen: false,
    closedReason: 'manual',
    timeZone: 'America/Los_Angeles',
    matchedRule: null,
    nextChange: null,
  });
});

test('without simulate the current time is used', async () => {
  // Pinned: the answer without `simulate` equals the answer for the instant of the request, taken
  // as the instants just before and just after it (which agree unless a change falls between).
  for (const name of ['Support', 'Sales']) {
    const before = new Date().toISOString();
    const { status, body } = await check({ name });
    const after = new Date().toISOString();
    assert.equal(status, 200);
    const [a, b] = [(await check({ name, simulate: before })).body, (await check({ name, simulate: after })).body];
    if (JSON.stringify(a) !== JSON.stringify(b)) continue; // a schedule change happened during the request
    assert.deepEqual(body, a, `${name} at ${before}`);
  }
});

test('name and simulate are read from a JSON body and from a form body', async () => {
  const json = await fetch(rt.url('/check-schedule'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Support', simulate: '2026-11-23T12:45' }),
  });
  assert.equal(json.status, 200);
  assert.equal((await json.json()).closedReason, 'lunch');
  const form = await fetch(rt.url('/check-schedule'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name: 'Sales', simulate: '2026-11-27T16:30' }).toString(),
  });
  assert.equal(form.status, 200);
  assert.equal((await form.json()).closedReason, 'team meeting');
});

test('a missing name is a 400 that says which parameter is missing', async () => {
  for (const params of [{}, { name: '' }, { simulate: '2026-11-23T10:00' }]) {
    const { status, headers, body } = await check(params);
    assert.equal(status, 400);
    assert.equal(headers.get('access-control-allow-origin'), '*');
    assert.match(body.error, /name/);
    assert.equal(body.code, 'missing_name');
  }
});

test('an unknown schedule is a 404 with the fail-open body Studio flows rely on', async () => {
  const { status, body } = await check({ name: 'Nope', simulate: '2026-11-23T10:00' });
  assert.equal(status, 404);
  assert.deepEqual(body, { isOpen: true, closedReason: 'error', error: 'Schedule Nope not found' });
});

test('an invalid simulate is a 400 that says what format is expected', async () => {
  for (const simulate of ['tomorrow', '2026-13-01T10:00', '2026-11-23T25:00']) {
    const { status, body } = await check({ name: 'Support', simulate });
    assert.equal(status, 400, simulate);
    assert.ok(body.error.includes(simulate), body.error);
    assert.match(body.error, /ISO 8601/);
    assert.equal(body.code, 'invalid_simulate');
  }
});
