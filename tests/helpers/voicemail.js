// Direct calls that end in voicemail, driven through the emulator as Twilio would drive them, for
// tests/voicemail*.test.js:
//
//   const call = await directCall(stack, workerSid, { from: '+15551230001' });   // {callSid, taskSid}
//   const r = await reservation(stack, call.taskSid, workerSid, 'rejected', { repeat: 2 }); // the event(s) delivered
//   const rec = await record(stack, call.callSid, { durationSeconds: 2, 'repeat.status': 2 });
const { postForm } = require('./emulator-client');

const WORKFLOW = `WW${'c'.repeat(32)}`;

async function control(stack, path, form) {
  const res = await postForm(`${stack.emu.origin}${path}`, form);
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A live inbound call, and the direct-call task Studio's Send to Flex makes for it (reserved for the worker). */
async function directCall(stack, workerSid, { from = '+15551230001', extension = '201', workerName = 'Alice' } = {}) {
  const call = await control(stack, '/emulator/calls', { From: from, To: '+15005550006' });
  const attributes = { call_sid: call.sid, from, name: from, type: 'inbound', directCall: { extension, workerSid, workerName } };
  const task = await control(stack, '/emulator/taskrouter/tasks', { workerSid, status: 'pending', workflowSid: WORKFLOW, attributes: JSON.stringify(attributes) });
  return { callSid: call.sid, taskSid: task.sid };
}

/** The worker's reservation moves to `status`, and TaskRouter's event reaches the event callback (`repeat` times). */
async function reservation(stack, taskSid, workerSid, status, { repeat = 1 } = {}) {
  return control(stack, `/emulator/taskrouter/tasks/${taskSid}/reservations`, { workerSid, status, event: 'true', repeat: String(repeat) });
}

/** The caller leaves a message: the <Record> the call runs produces a recording and its callbacks. */
async function record(stack, callSid, form = {}) {
  return control(stack, `/emulator/calls/${callSid}/record`, { durationSeconds: '2', ...form });
}

/** The emulator's view of the call (its Url and the TwiML that Url answered). */
async function callState(stack, callSid) {
  const res = await fetch(`${stack.emu.origin}/`);
  return (await res.json()).calls.calls[callSid];
}

module.exports = { directCall, reservation, record, callState, WORKFLOW };
