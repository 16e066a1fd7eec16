// Voicemail for direct calls (docs/voicemail.md): the I/O around crates/voicemail, which decides.
//
//   const vm = require(Runtime.getFunctions()['common/voicemail'].path);
//   await vm.voicemailHook(context, fields)       // the TaskRouter event callback's hook; never throws
//   await vm.storePart(context, fields)          // a recording / action / transcription callback -> {status, body}
//   vm.crate(fn)                                 // callWasm on the voicemail module
//   await vm.unheardOnBoard(context, client, workerSid) // the worker's unheard count onto the live agents view; never throws
//
// Sync (VOICEMAIL_SYNC_SID, else SYNC_SERVICE_SID): `Voicemail.Calls` (claims, key = call SID, TTL 1 day) and
// `Voicemail.<workerSid>` (a worker's voicemails, key = call SID, kept until deleted).
const crypto = require('crypto');
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);
const { isCode } = require(Runtime.getFunctions()['common/sync'].path);

const voicemail = wasmModule('voicemail');
const crate = (fn) => callWasm(voicemail, fn);

/** The environment the crate reads. */
const envOf = (context) => ({
  DOMAIN_NAME: context.DOMAIN_NAME,
  VOICEMAIL_TRANSCRIBE: context.VOICEMAIL_TRANSCRIBE,
  VOICEMAIL_MAX_SECONDS: context.VOICEMAIL_MAX_SECONDS,
  VOICEMAIL_MEDIA_FORMAT: context.VOICEMAIL_MEDIA_FORMAT,
  VOICEMAIL_SYNC_SID: context.VOICEMAIL_SYNC_SID,
});

/** VOICEMAIL_SYNC_SID (validated by the crate), else SYNC_SERVICE_SID (500 naming it when unset). */
const syncServiceSid = (context) => crate((w) => w.settings(envOf(context))).syncServiceSid || tw.requireEnv(context, 'SYNC_SERVICE_SID');
const syncMaps = (context, client) => client.sync.v1.services(syncServiceSid(context)).syncMaps;
const retry = (context, fn) => tw.withRetry(context, fn);

async function fetchItem(context, client, map, key) {
  try {
    const item = await retry(context, () => syncMaps(context, client)(map).syncMapItems(key).fetch());
    return { data: item.data, revision: item.revision };
  } catch (err) {
    if (isCode(err, 404)) return null;
    throw err;
  }
}

/** Creates the item; false when the key exists (409). Creates a missing map. */
async function createItem(context, client, map, key, data, ttl) {
  const create = () => retry(context, () => syncMaps(context, client)(map).syncMapItems.create({ key, data, ...(ttl ? { ttl } : {}) }));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await create();
      return true;
    } catch (err) {
      if (isCode(err, 409)) return false;
      if (!isCode(err, 404) || attempt > 0) throw err;
    }
    try {
      await retry(context, () => syncMaps(context, client).create({ uniqueName: map }));
    } catch (err) {
      if (!isCode(err, 409)) throw err;
    }
  }
  return false;
}

const updateItem = (context, client, map, key, data, ifMatch) =>
  retry(context, () =>
    syncMaps(
      context,
      client,
    )(map)
      .syncMapItems(key)
      .update({ data, ...(ifMatch ? { ifMatch } : {}) }),
  );

const failure = (err) => ({
  status: err && Number.isInteger(err.status) ? err.status : null,
  code: err && err.code ? Number(err.code) : null,
  ambiguous: tw.ambiguous(err),
  message: (err && err.message) || String(err),
});

// --- the TaskRouter event hook -------------------------------------------------------------------

async function cancelTask(context, client, workspaceSid, taskSid, reason) {
  try {
    await retry(context, () => client.taskrouter.v1.workspaces(workspaceSid).tasks(taskSid).update({ assignmentStatus: 'canceled', reason }));
    return 'canceled';
  } catch (err) {
    // Already canceled (or completed): TaskRouter refuses with a 4xx; the task is out of the way.
    return err && err.status >= 400 && err.status < 500 ? `not canceled: ${err.message}` : Promise.reject(err);
  }
}

async function runHook(context, fields) {
  if (!context.SYNC_SERVICE_SID && !context.VOICEMAIL_SYNC_SID) return { off: 'neither VOICEMAIL_SYNC_SID nor SYNC_SERVICE_SID is set' };
  const env = envOf(context);
  const plan = crate((w) => w.planEvent(fields, env));
  if (plan.kind !== 'voicemail') return { action: 'none', reason: plan.reason };
  const client = tw.twilioClient(context);
  const workspaceSid = /^WS[0-9a-f]{32}$/i.test(String(fields.WorkspaceSid || '')) ? String(fields.WorkspaceSid) : tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  const token = crypto.randomUUID();
  const cancel = () => (plan.cancelReason ? cancelTask(context, client, workspaceSid, plan.taskSid, plan.cancelReason) : 'not needed');

  const found = await fetchItem(context, client, plan.claimMap, plan.claimKey);
  const step = crate((w) => w.decide(plan, found ? found.data : null, found ? found.revision : null, token, Date.now()));
  if (step.kind === 'inProgress') return { action: 'none', reason: 'another request is sending this call to voicemail' };
  if (step.kind === 'done') return { action: 'already', state: step.state, task: await cancel() };
  if (step.kind === 'create') {
    if (!(await createItem(context, client, plan.claimMap, plan.claimKey, step.claim, plan.claimTtl))) return { action: 'none', reason: 'claimed by another request' };
  } else {
    try {
      await updateItem(context, client, plan.claimMap, plan.claimKey, step.claim, step.revision);
    } catch (err) {
      if (isCode(err, 412)) return { action: 'none', reason: 'taken over by another request' };
      throw err;
    }
  }
  let outcome;
  try {
    await client.calls(plan.callSid).update({ url: plan.redirectUrl, method: 'POST' }); // never retried blindly
    outcome = crate((w) => w.afterRedirect(true, null, null, false));
  } catch (err) {
    const f = failure(err);
    outcome = crate((w) => w.afterRedirect(false, f.status, f.code, f.ambiguous));
    outcome.error = f.message;
  }
  const summary = { action: 'voicemail', callSid: plan.callSid, taskSid: plan.taskSid, reason: plan.reason, outcome: outcome.outcome };
  if (outcome.error) summary.error = outcome.error;
  try {
    if (outcome.release) await retry(context, () => syncMaps(context, client)(plan.claimMap).syncMapItems(plan.claimKey).remove());
    else if (outcome.state) await updateItem(context, client, plan.claimMap, plan.claimKey, { ...step.claim, state: outcome.state, atMs: Date.now() });
  } catch (err) {
    summary.claimError = err.message; // a `redirecting` claim is taken over after its lease
  }
  if (outcome.cancelTask) summary.task = await cancel();
  return summary;
}

/** The event callback's hook: what it did, or `{error}`; never throws (queue statistics go on). */
async function voicemailHook(context, fields) {
  try {
    return await runHook(context, fields);
  } catch (err) {
    console.error('voicemail hook:', err);
    return { error: (err && err.message) || String(err) };
  }
}

// --- the unheard count on the live agents view (docs/agents-live.md) ------------------------------

const BOARD_MS = 3000;
const BOX_LIMIT = 1000;

/**
 * Counts the worker's unheard voicemails (the crate's list answer over the whole box, up to 1,000)
 * and hands the count to the live agents view's writer (agents-live: same pacing and If-Match as
 * TaskRouter's events; a newer count wins). Called after a voicemail is stored, marked heard or
 * deleted, when that has succeeded. Never throws and never waits more than 3 s: the voicemail is
 * what matters. A count that did not reach the board is put right by the box's next change (each
 * count is the whole box's, not a +1/-1).
 */
async function unheardOnBoard(context, client, workerSid) {
  let timer;
  const work = (async () => {
    const live = require(Runtime.getFunctions()['common/agents-live'].path);
    if (!live.boardSidOf(context)) return { off: 'WALLBOARD_SYNC_SID is not set' };
    const at = Date.now();
    let items;
    try {
      items = await retry(context, () => syncMaps(context, client)(`Voicemail.${workerSid}`).syncMapItems.list({ pageSize: 100, limit: BOX_LIMIT }));
    } catch (err) {
      if (!isCode(err, 404)) throw err;
      items = []; // no box (its last voicemail deleted with it, or none yet)
    }
    const { unheard } = crate((w) =>
      w.listAnswer(
        workerSid,
        items.map((i) => i.data),
        null,
      ),
    );
    return { unheard, board: await live.agentsLiveUnheard(context, workerSid, unheard, at, BOARD_MS) };
  })();
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve({ error: `not finished after ${BOARD_MS / 1000} s` }), BOARD_MS)));
  try {
    const out = await Promise.race([work, late]);
    if (out.error || (out.board && out.board.error)) console.error(`voicemail: the unheard count of ${workerSid} is not on the agents view yet: ${out.error || out.board.error}`);
    return out;
  } catch (err) {
    console.error(`voicemail: the unheard count of ${workerSid} is not on the agents view yet: ${(err && err.message) || err}`);
    return { error: (err && err.message) || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

// --- storing a voicemail from Twilio's callbacks -------------------------------------------------

const CALLBACK_FIELDS = ['workerSid', 'reason', 'CallSid', 'RecordingSid', 'RecordingStatus', 'RecordingDuration', 'From', 'To', 'TranscriptionStatus', 'TranscriptionText'];

/**
 * Folds one callback into the call's voicemail. Answers 200 when done (or nothing to do), 400 for
 * a malformed callback, 503 when a redelivery can finish the job (Sync failed or stayed busy).
 */
async function storePart(context, event) {
  const answer = await storeOnce(context, event);
  // Stored (created, merged, or found already stored after a lost answer): the count follows.
  if (answer.status === 200 && answer.body.stored && answer.workerSid) {
    await unheardOnBoard(context, answer.client, answer.workerSid);
  }
  return { status: answer.status, body: answer.body };
}

async function storeOnce(context, event) {
  const fields = {};
  for (const k of CALLBACK_FIELDS) if (event[k] !== undefined && event[k] !== null) fields[k] = String(event[k]);
  syncServiceSid(context);
  const part = crate((w) => w.parseCallback(fields));
  const client = tw.twilioClient(context);
  const map = `Voicemail.${part.workerSid}`;
  let fetchedCaller = false;
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const item = await fetchItem(context, client, map, part.callSid);
      if (!part.from && !part.noAudio && !fetchedCaller && !(item && item.data && item.data.from)) {
        fetchedCaller = true;
        try {
          const call = await retry(context, () => client.calls(part.callSid).fetch());
          part.from = call.from || null;
          part.to = call.to || null;
        } catch (err) {
          console.error(`voicemail: the caller of ${part.callSid} is unknown: ${err.message}`); // stored without; a later part may fill it
        }
      }
      const write = crate((w) => w.merge(item ? item.data : null, part, Date.now()));
      if (write.kind === 'nothing') return { status: 200, workerSid: part.workerSid, client, body: { stored: Boolean(item), callSid: part.callSid, reason: write.reason } };
      if (write.kind === 'create') {
        if (await createItem(context, client, map, part.callSid, write.voicemail))
          return { status: 200, workerSid: part.workerSid, client, body: { stored: true, created: true, voicemail: write.voicemail } };
        continue; // created meanwhile by another callback: merge into it
      }
      try {
        await updateItem(context, client, map, part.callSid, write.voicemail, item.revision);
        return { status: 200, workerSid: part.workerSid, client, body: { stored: true, updated: true, voicemail: write.voicemail } };
      } catch (err) {
        if (!isCode(err, 412)) throw err;
      }
    }
    return { status: 503, body: { error: `the voicemail of ${part.callSid} kept changing; a redelivery will finish` } };
  } catch (err) {
    const f = failure(err);
    if (f.ambiguous || f.status === 429) {
      console.error(`voicemail: storing ${part.callSid} failed, a redelivery will finish: ${f.message}`);
      return { status: 503, body: { error: `storing the voicemail failed (${f.message}); a redelivery will finish` } };
    }
    return { status: 200, body: { stored: false, error: `Sync refused the voicemail: ${f.message}` } };
  }
}

module.exports = { voicemailHook, storePart, unheardOnBoard, crate, envOf, fetchItem, updateItem, syncMaps, syncServiceSid };
