// POST /voicemail-twiml?workerSid=WK…[&reason=…][&step=done] (Twilio fetches it; protected: signed by Twilio)
// The voicemail leg of a direct call: the worker's greeting (their `voicemailGreetingUrl`
// attribute, or a default naming them) and <Record> with its callbacks (crates/voicemail, twiml).
// Studio redirects an unavailable worker's call here; the TaskRouter event hook redirects a call
// its worker did not answer or rejected. `step=done` is the <Record> action: it also stores what
// it carries (recording SID, duration, caller) and answers a goodbye, whatever storing does.
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const vm = require(Runtime.getFunctions()['common/voicemail'].path);

const text = (v) => (v === undefined || v === null ? undefined : String(v));

exports.handler = handle(async (context, event) => {
  const plan = vm.crate((w) => w.twimlPlan({ workerSid: text(event.workerSid), reason: text(event.reason), step: text(event.step) }));
  const env = vm.envOf(context);
  vm.crate((w) => w.settings(env)); // a bad VOICEMAIL_* variable is a 500 naming it
  if (plan.step === 'done') {
    if (event.RecordingSid) {
      const stored = await vm.storePart(context, { ...event, workerSid: plan.workerSid }).catch((err) => ({ status: 500, body: { error: err.message } }));
      if (stored.status !== 200) console.error(`voicemail-twiml: the action could not store ${event.CallSid}: ${JSON.stringify(stored.body)}`);
    }
    return { status: 200, body: vm.crate((w) => w.goodbyeTwiml()), contentType: 'text/xml' };
  }
  let worker = null;
  const workspaceSid = context.WORKSPACE_SID || context.TWILIO_FLEX_WORKSPACE_SID;
  if (workspaceSid) {
    try {
      const k = await tw.withRetry(context, () => tw.twilioClient(context).taskrouter.v1.workspaces(String(workspaceSid)).workers(plan.workerSid).fetch());
      worker = { friendlyName: k.friendlyName, attributes: k.attributes };
    } catch (err) {
      console.error(`voicemail-twiml: worker ${plan.workerSid} could not be read (${err.message}); the default greeting names nobody`);
    }
  }
  return { status: 200, body: vm.crate((w) => w.greetingTwiml(plan, worker, env)), contentType: 'text/xml' };
});
