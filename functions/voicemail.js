// GET|POST /voicemail — a worker's voicemail box (docs/voicemail.md). Flex token in
// `Authorization: Bearer` (or `Token` in a POST body; never in a URL). An agent reaches their own
// box, a supervisor or admin anyone's (`workerSid`; crates/auth's actFor rule).
//   action=list (default) [pageSize 1-100] [pageToken]  -> {workerSid, voicemails, unheard, unheardAtLeast, nextPageToken}
//   action=heard callSid [heard=true|false]             -> {voicemail}
//   action=delete callSid                               -> {deleted: true, callSid, recordingSid} (the Twilio recording too)
//   action=media callSid                                -> the audio (audio/mpeg or audio/wav), fetched with the account's credentials
// Bad input: 400 naming it; another agent's box: 403; no such voicemail: 404.
const { handle, HttpError, formFields } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const auth = require(Runtime.getFunctions()['common/auth'].path);
const { requestTimeoutMs, DeadlineError } = require(Runtime.getFunctions()['common/deadline'].path);
const vm = require(Runtime.getFunctions()['common/voicemail'].path);

const FIELDS = ['action', 'workerSid', 'callSid', 'heard', 'pageSize', 'pageToken'];

async function stored(context, client, plan) {
  let item;
  try {
    item = await vm.fetchItem(context, client, plan.map, plan.callSid);
  } catch (err) {
    throw tw.twilioFailure(`Reading voicemail ${plan.callSid}`, err);
  }
  return { item, voicemail: vm.crate((w) => w.stored(plan, item ? item.data : null)) };
}

async function list(context, client, plan) {
  let page;
  try {
    const params = { pageSize: plan.pageSize, order: 'asc', ...(plan.pageToken ? { from: plan.pageToken, bounds: 'exclusive' } : {}) };
    page = await tw.withRetry(context, () => vm.syncMaps(context, client)(plan.map).syncMapItems.page(params));
  } catch (err) {
    if (err && err.status === 404)
      page = { instances: [] }; // no voicemail yet: no map
    else throw tw.twilioFailure('Listing the voicemails', err);
  }
  const items = page.instances || [];
  const more = Boolean(page.nextPageUrl) && items.length > 0;
  const next = more ? items[items.length - 1].key : null;
  return vm.crate((w) =>
    w.listAnswer(
      plan.workerSid,
      items.map((i) => i.data),
      next,
    ),
  );
}

async function markHeard(context, client, plan) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const { item, voicemail } = await stored(context, client, plan);
    const changed = vm.crate((w) => w.markHeard(voicemail, plan.heard, Date.now()));
    if (!changed) return { voicemail };
    try {
      await vm.updateItem(context, client, plan.map, plan.callSid, changed, item.revision);
      return { voicemail: changed };
    } catch (err) {
      if (!(err && err.status === 412)) throw tw.twilioFailure(`Marking voicemail ${plan.callSid}`, err);
    }
  }
  throw new HttpError(409, `Voicemail ${plan.callSid} kept changing; try again`, { code: 'conflict' });
}

async function remove(context, client, plan) {
  const { voicemail } = await stored(context, client, plan);
  // The recording first: if that fails the voicemail stays listed, and deleting it again works.
  try {
    await tw.withRetry(context, () => client.recordings(voicemail.recordingSid).remove());
  } catch (err) {
    if (!(err && err.status === 404)) throw tw.twilioFailure(`Deleting recording ${voicemail.recordingSid}`, err);
  }
  try {
    await tw.withRetry(context, () => vm.syncMaps(context, client)(plan.map).syncMapItems(plan.callSid).remove());
  } catch (err) {
    if (!(err && err.status === 404)) throw tw.twilioFailure(`Deleting voicemail ${plan.callSid} (its recording is already deleted)`, err);
  }
  return { deleted: true, callSid: plan.callSid, recordingSid: voicemail.recordingSid };
}

async function media(context, client, plan) {
  const { voicemail } = await stored(context, client, plan);
  const accountSid = tw.requireEnv(context, 'ACCOUNT_SID');
  const authToken = tw.requireEnv(context, 'AUTH_TOKEN');
  const { url, contentType } = vm.crate((w) => w.media(vm.envOf(context), accountSid, voicemail.recordingSid));
  const { uri, headers } = tw.route(tw.apiOrigin(context), url);
  let res;
  try {
    res = await fetch(uri, {
      headers: { ...headers, Authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
      signal: AbortSignal.timeout(requestTimeoutMs()),
    });
  } catch (err) {
    if (err instanceof DeadlineError) throw new HttpError(504, `Fetching recording ${voicemail.recordingSid} was not attempted: ${err.message}`);
    throw new HttpError(502, `Fetching recording ${voicemail.recordingSid} failed: ${err.message}`);
  }
  if (res.status === 404) throw new HttpError(404, `Recording ${voicemail.recordingSid} of voicemail ${plan.callSid} no longer exists at Twilio`, { code: 'recording_gone' });
  if (!res.ok) throw new HttpError(502, `Fetching recording ${voicemail.recordingSid} failed: Twilio answered HTTP ${res.status}`);
  return { status: 200, body: Buffer.from(await res.arrayBuffer()), contentType };
}

exports.handler = handle(async (context, event) => {
  const who = await auth.identify(context, event);
  const grant = auth.check(context, who, { kind: 'anyWorker' });
  const plan = vm.crate((w) => w.boxPlan(formFields(event, FIELDS), grant.workerSid || null));
  auth.check(context, who, { kind: 'actFor', workerSid: plan.workerSid });
  vm.syncServiceSid(context); // 500 naming the variable before anything is read
  const client = tw.twilioClient(context);
  if (plan.action === 'media') return media(context, client, plan);
  const body = plan.action === 'list' ? await list(context, client, plan) : plan.action === 'heard' ? await markHeard(context, client, plan) : await remove(context, client, plan);
  // Marked or deleted: the worker's unheard count on the live agents view follows (never fails this answer).
  if (plan.action !== 'list') await vm.unheardOnBoard(context, client, plan.workerSid);
  return { status: 200, body };
});
