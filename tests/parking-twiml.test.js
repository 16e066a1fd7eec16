// The parking crate's TwiML (through its wasm module) against what the `twilio` library's
// VoiceResponse writes for the same input, both parsed as XML, with hostile attribute values.
// Run `npm run build` first.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const twilio = require('twilio');
const { DOMParser } = require('@xmldom/xmldom');

const parking = require(path.join(__dirname, '..', 'functions', 'wasm', 'parking.private.js'));

const HOSTILE = [
  '<script>alert(1)</script>',
  'Tom & Jerry',
  '"double" and \'single\' quotes',
  ']]> ends CDATA',
  '<![CDATA[ x ]]>',
  'Zoë 日本語 😀 ñ',
  'tab\tnewline\ncr\r',
  '\u0001\u001f control',
  '&amp; already escaped &lt;',
  '</Task></Enqueue><Hangup/><Enqueue><Task>',
];
const WORKER = 'WK' + 'b'.repeat(32);
const WORKFLOW = 'WW' + 'c'.repeat(32);
const CALL = 'CA' + 'd'.repeat(32);
const NOW = Date.parse('2024-05-01T12:00:00.000Z');

const SETTINGS = { domainName: 'example-1234.twil.io' };

/** Parks `attributes` (at `parkedAt`) and picks the call up at NOW, from the record park wrote. */
function parkAndPickUp(attributes, { name = 'fallback', queueName = 'q', parkedAt = NOW } = {}) {
  const parked = parking.park({ attributes: JSON.stringify(attributes), callSid: CALL, name, queueName, taskSid: 'WT' + 'e'.repeat(32), workerSid: WORKER, workflowSid: WORKFLOW }, SETTINGS, parkedAt);
  return parking.pickup({ callSid: CALL }, { data: parked.record, revision: '0' }, 'token', SETTINGS, NOW);
}

/** A parsed document as plain data: element names, attributes, children, text. */
function tree(xml) {
  const errors = [];
  const doc = new DOMParser({ onError: (level, msg) => level !== 'warning' && errors.push(msg) }).parseFromString(xml, 'text/xml');
  assert.deepEqual(errors, [], xml);
  const walk = (node) => {
    if (node.nodeType === 3 || node.nodeType === 4) return { text: node.data };
    const attrs = {};
    for (let i = 0; i < node.attributes.length; i += 1) attrs[node.attributes[i].name] = node.attributes[i].value;
    return { name: node.nodeName, attrs, children: Array.from(node.childNodes).map(walk) };
  };
  return walk(doc.documentElement);
}

/** The task attributes the spec asks for, computed independently of the crate. */
function expectedPickupAttributes(original, { workerSid, name, queueName, holdTime }) {
  const out = JSON.parse(JSON.stringify(original));
  out.autoAnswer = true;
  out.isParkPickup = true;
  out.targetWorker = workerSid;
  if (out.name === undefined || out.name === null || String(out.name).trim() === '') out.name = name;
  out.conversations = { ...(out.conversations || {}) };
  out.conversations.hold_time = holdTime;
  out.conversations.queue_time = 0;
  if (out.conversations.queue === undefined || out.conversations.queue === null || String(out.conversations.queue).trim() === '') {
    out.conversations.queue = queueName;
  }
  return out;
}

test('pickup TwiML equals VoiceResponse output for hostile attributes', () => {
  for (const value of HOSTILE) {
    const original = { [value]: value, name: value, nested: { list: [value, 1, null, true] }, conversations: { conversation_id: value } };
    const plan = parkAndPickUp(original, { queueName: value, parkedAt: NOW - 60_000 });
    const twiml = plan.callUpdate.twiml;
    const expected = expectedPickupAttributes(original, { workerSid: WORKER, name: 'fallback', queueName: value, holdTime: 60 });

    const response = new twilio.twiml.VoiceResponse();
    response.enqueue({ workflowSid: WORKFLOW }).task({ priority: 1000 }, JSON.stringify(expected));
    const ours = tree(twiml);
    const theirs = tree(response.toString());

    const task = (t) => t.children[0].children[0];
    assert.deepEqual(JSON.parse(task(ours).children[0].text), JSON.parse(task(theirs).children[0].text), value);
    assert.deepEqual(JSON.parse(task(ours).children[0].text), expected, value);
    const shape = (t) => ({ ...t, children: t.children.map((c) => ({ ...c, children: c.children.map((k) => ({ ...k, children: k.children.length })) })) });
    assert.deepEqual(shape(ours), shape(theirs), value);
    assert.ok(twiml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
  }
});

test('a pickup too long for a call update goes by Url, and pickupTwiml answers the same document', () => {
  const value = HOSTILE.join(' ').repeat(60);
  const plan = parkAndPickUp({ v: value });
  assert.equal(plan.callUpdate.twiml, undefined);
  assert.deepEqual(plan.callUpdate, { url: 'https://example-1234.twil.io/pickup-twiml', method: 'POST' });
  const twiml = parking.pickupTwiml(CALL, plan.pickupItem.data);
  assert.ok(twiml.length > 4000);
  const response = new twilio.twiml.VoiceResponse();
  response.enqueue({ workflowSid: WORKFLOW }).task({ priority: 1000 }, JSON.stringify(plan.taskAttributes));
  assert.deepEqual(tree(twiml), tree(response.toString()));
});

test('park TwiML equals VoiceResponse output, hostile hold music paths included', () => {
  for (const holdMusicPath of [undefined, 'music/hold.mp3', 'a&b<c>"d\'.mp3', 'Zoë 😀.mp3', ']]>.mp3']) {
    const plan = parking.park(
      { attributes: '{}', callSid: CALL, name: 'n', queueName: 'q', taskSid: 'WT' + 'e'.repeat(32), workerSid: WORKER, workflowSid: WORKFLOW },
      { domainName: 'example-1234.twil.io', holdMusicPath },
      NOW,
    );
    const url = plan.twiml.match(/<Play loop="99">([^<]*)<\/Play>/)[1].replace(/&amp;/g, '&');
    assert.match(url, /^https:\/\/example-1234\.twil\.io\/[A-Za-z0-9\-._~/%]+$/);
    assert.equal(decodeURIComponent(url.split('/').slice(3).join('/')), holdMusicPath || 'hold_music_1.mp3');
    const response = new twilio.twiml.VoiceResponse();
    response.play({ loop: 99 }, url);
    assert.deepEqual(tree(plan.twiml), tree(response.toString()));
    assert.equal(plan.twiml, response.toString(), 'byte-identical for the hold TwiML');
  }
});

test('random attribute values survive the round trip through TwiML', () => {
  const chars = ['<', '>', '&', '"', "'", ']', 'é', '😀', '\u0000', '\u2028', '\\', 'a', ' ', '\n', '\uFFFE', '\uFFFF'];
  let seed = 42;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 300; i += 1) {
    const value = Array.from({ length: rand(20) }, () => chars[rand(chars.length)]).join('');
    const plan = parkAndPickUp({ v: value });
    const text = tree(plan.callUpdate.twiml).children[0].children[0].children[0].text;
    assert.equal(JSON.parse(text).v, value, JSON.stringify(value));
  }
});

test('crate errors carry a code, an HTTP status and the parameter', () => {
  assert.throws(
    () => parking.pickupTarget({ attributes: '{}', callSid: 'CA123' }),
    (err) => err.code === 'invalid_parameter' && err.status === 400 && err.parameter === 'callSid' && /CA123/.test(err.message),
  );
  assert.throws(
    () => parking.pickup({ callSid: CALL }, null, 'token', SETTINGS, NOW),
    (err) => err.code === 'not_parked' && err.status === 404 && err.parameter === 'callSid',
  );
});
