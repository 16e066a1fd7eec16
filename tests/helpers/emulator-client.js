// Test helpers for the emulator: the real `twilio` client aimed at it (as functions/common/client
// does with TWILIO_API_ORIGIN), form posts to functions, and SIDs.
const crypto = require('crypto');
const twilio = require('twilio');

/** The real twilio client, every request sent to the emulator with X-Forwarded-Host. */
function emulatorClient(emu) {
  const inner = new twilio.RequestClient({ timeout: 5000 });
  const httpClient = {
    request(opts) {
      const target = new URL(opts.uri);
      return inner.request({ ...opts, headers: { ...(opts.headers || {}), 'X-Forwarded-Host': target.host }, uri: `${emu.origin}${target.pathname}${target.search}` });
    },
  };
  const env = emu.functionEnv();
  return twilio(env.ACCOUNT_SID, env.AUTH_TOKEN, { httpClient });
}

/** POSTs a form to a URL; answers {status, body (parsed JSON when possible), headers}. */
async function postForm(url, form = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(Object.entries(form).filter(([, v]) => v !== undefined)).toString(),
  });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

const sid = (prefix) => prefix + crypto.randomBytes(16).toString('hex');

/**
 * A voice task in the emulator's workspace held by `workerSid` (its reservation in `status`,
 * default `accepted`: the task is assigned), carrying `callSid` as Flex does on every voice task
 * (`conference.participants.customer`) unless `attributes` are given. Answers the task SID.
 */
async function heldTask(emu, workerSid, callSid, { status = 'accepted', attributes } = {}) {
  const body = attributes || { conference: { sid: sid('CF'), participants: { customer: callSid, worker: sid('CA') } } };
  const res = await postForm(`${emu.origin}/emulator/taskrouter/tasks`, { workerSid, status, attributes: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`the emulator did not create the task: ${JSON.stringify(res.body)}`);
  return res.body.sid;
}

module.exports = { emulatorClient, postForm, sid, heldTask };
