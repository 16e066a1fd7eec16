// The voicemail page in headless Chromium, against the real runtime and the emulator: voicemails
// left by direct calls are listed, one is played (its audio fetched with the token in a header
// and played from a blob), which marks it heard, and one is deleted with its Twilio recording.
// Writes docs/img/voicemail.png (the README's screenshot).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { startStack } = require('./helpers/stack');
const { launchBrowser } = require('./helpers/browser');
const { directCall, reservation, record } = require('./helpers/voicemail');
const { wavBytes } = require('../emulator/recordings');

const IMG = path.join(__dirname, '..', 'docs', 'img');
let stack;
let browser;
let alice;
let bob;

before(async () => {
  stack = await startStack({ env: { VOICEMAIL_TRANSCRIBE: 'true', VOICEMAIL_MEDIA_FORMAT: 'wav' } });
  alice = stack.emu.makeToken({ identity: 'alice', roles: ['agent'] });
  bob = stack.emu.makeToken({ identity: 'bob', roles: ['agent'] });
  browser = await launchBrowser({ viewport: { width: 1100, height: 420 } });
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

async function leaveVoicemail(status, from, form) {
  const call = await directCall(stack, alice.worker_sid, { from });
  await reservation(stack, call.taskSid, alice.worker_sid, status);
  const rec = await record(stack, call.callSid, form);
  return { ...call, recordingSid: rec.recording.sid };
}

test('the voicemail page lists, plays (marks heard) and deletes; another agent is refused', async () => {
  const first = await leaveVoicemail('timeout', '+15551230001', { durationSeconds: '2', transcriptionText: 'Hi Alice, it is Ada. Please call me back about the invoice.' });
  const second = await leaveVoicemail('rejected', '+15551230002', { durationSeconds: '1', transcriptionText: 'Second message, nothing urgent.' });

  const page = await browser.newPage();
  await page.goto(stack.rt.url(`/voicemail/index.html#token=${encodeURIComponent(alice.token)}`));
  await page.waitForSelector('body[data-loaded="true"]');
  assert.equal(await page.evaluate(() => location.hash), '', 'the token left the address bar');
  const rows = page.locator('#list tbody tr');
  assert.equal(await rows.count(), 2);
  assert.equal(await page.locator('#unheard').textContent(), '2 new');
  assert.match(await page.locator(`tr[data-call-sid="${first.callSid}"]`).textContent(), /\+15551230001.*2 s.*no answer.*Hi Alice, it is Ada/);

  // Play the first: the audio element gets a blob: URL of the emulator's media, and it is heard.
  await page.locator(`tr[data-call-sid="${first.callSid}"] button.play`).click();
  await page.waitForSelector(`tr[data-call-sid="${first.callSid}"].heard`);
  const player = await page.evaluate(() => ({ src: document.getElementById('player').src, bytes: document.getElementById('player').dataset.bytes }));
  assert.match(player.src, /^blob:/);
  assert.equal(Number(player.bytes), wavBytes(2).length);
  assert.equal(await page.locator('#unheard').textContent(), '1 new');
  await page.screenshot({ path: path.join(IMG, 'voicemail.png') });

  // Delete the second (confirmed): gone from the page, the box, and Twilio's recordings.
  page.once('dialog', (d) => d.accept());
  await page.locator(`tr[data-call-sid="${second.callSid}"] button.delete`).click();
  await page.waitForSelector(`tr[data-call-sid="${second.callSid}"]`, { state: 'detached' });
  assert.ok(stack.emu.state.recordings.deleted.has(second.recordingSid));
  assert.equal(stack.emu.state.recordings.recordings.has(first.recordingSid), true);
  // No token ever went into a URL the page requested.
  const urls = stack.emu.requests.map((r) => JSON.stringify(r.query));
  assert.equal(
    urls.some((q) => q.includes(alice.token)),
    false,
  );

  // Bob opening Alice's box: refused, and the page says so.
  const other = await browser.newPage();
  await other.goto(stack.rt.url(`/voicemail/index.html?workerSid=${alice.worker_sid}#token=${encodeURIComponent(bob.token)}`));
  await other.waitForSelector('#message.error');
  assert.match(await other.locator('#message').textContent(), /Not allowed/);
  assert.equal(await other.locator('#list').isHidden(), true);
  assert.deepEqual(browser.errors, []);
});
