// The executor of the effects protocol (docs/effects.md): the one place where a machine's Twilio
// requests are made. A machine (a crate's wasm face) answers a step: effects to perform and the
// state to resume from, or the answer. This file performs every effect of a step at once, hands
// the machine their outcomes in order, and repeats until the machine answers.
//
//   const effects = require(Runtime.getFunctions()['common/effects'].path);
//   return effects.run(context, wasmModule('call_handling'), (wasm) => wasm.startPark(request, env, settings, token, Date.now()));
//   // -> {status, body, contentType?}, what common/http's handle() answers
//
// Guarantees, for every effect:
// - deadline: each request has the invocation's timeout (common/client, common/deadline); one that
//   can no longer start comes back as not attempted (`attempted: false`), never sent;
// - retries: with `retry: true`, a 429 or 503 (Twilio did not carry it out) is repeated with
//   backoff within the deadline (common/client's withRetry); never otherwise;
// - delay: with `delayMs`, the effect is sent that much later, if the deadline allows (else not
//   attempted, at once);
// - pacing: with `pace: {object, cost}`, the write waits until the object's last second leaves
//   room for its cost (common/sync-pacer: 80 % of Sync's per-object budget, per container);
// - outcomes: `{ok: true, value}` with the resource as plain JSON (the client's camelCase fields;
//   a list for list operations, `true` for a delete), or `{ok: false, attempted, status?, code?,
//   message, moreInfo?}` with Twilio's answer as it came. What a failure means (ambiguous or not,
//   which answer it gives) is the machine's decision, in Rust (crates/effects).
const tw = require(Runtime.getFunctions()['common/client'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { DeadlineError, remainingMs, requestTimeoutMs } = require(Runtime.getFunctions()['common/deadline'].path);
const twilio = require('twilio');
const { createPacer } = require(Runtime.getFunctions()['common/sync-pacer'].path);

const pace = createPacer(); // one per container: its writes share each object's budget
const MAX_STEPS = 200; // a machine ends long before; this only stops a broken one
const MIN_START_MS = 250; // a delayed effect must leave at least this much time to send it (common/deadline)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The parameters that are set (the client sends a null as the text "null"). */
const given = (params) => Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== null));
const sync = (c, o) => c.sync.v1.services(o.serviceSid);
const workspace = (c, o) => c.taskrouter.v1.workspaces(o.workspaceSid);
const serverless = (c, o) => c.serverless.v1.services(o.serviceSid);

/** A client with the caller's credentials instead of the service's own (fetchServerlessService). */
const clientAs = (context, { username, password }) =>
  twilio(username, password, { accountSid: tw.requireEnv(context, 'ACCOUNT_SID'), httpClient: new tw.TimedClient(tw.apiOrigin(context)), ...tw.regionOptions(context) });

/**
 * A request the `twilio` client cannot make, to `url` on Twilio (through TWILIO_API_ORIGIN when
 * set), with the account's credentials in `Authorization: Basic` (never in the URL) and the
 * invocation's timeout.
 */
function twilioFetch(context, url, { headers = {}, ...init } = {}) {
  const basic = Buffer.from(`${tw.requireEnv(context, 'ACCOUNT_SID')}:${tw.requireEnv(context, 'AUTH_TOKEN')}`).toString('base64');
  const routed = tw.route(tw.apiOrigin(context), url);
  return fetch(routed.uri, { ...init, headers: { ...headers, ...routed.headers, Authorization: `Basic ${basic}` }, signal: AbortSignal.timeout(requestTimeoutMs()) });
}

/** Twilio's error answer (JSON `{code, message, more_info}`) as the client throws it. */
const answered = (res, body) =>
  Object.assign(new Error((body && body.message && String(body.message)) || `Twilio answered HTTP ${res.status}`), {
    status: res.status,
    code: body && Number.isInteger(body.code) ? body.code : undefined,
    moreInfo: body && body.more_info,
  });

/** A new asset version, multipart on Twilio's upload host (the `twilio` client cannot upload). */
async function uploadAssetVersion(context, o) {
  const form = new FormData();
  form.append('Path', o.path);
  form.append('Visibility', o.visibility);
  form.append('Content', new Blob([o.content], { type: o.contentType }), o.path.split('/').pop() || 'content');
  const res = await twilioFetch(context, `https://serverless-upload.twilio.com/v1/Services/${o.serviceSid}/Assets/${o.assetSid}/Versions`, { method: 'POST', body: form });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw answered(res, body);
  return body;
}

/**
 * IAM's verdict on a Flex token: the request twilio-flex-token-validator makes (POST JSON {token},
 * Basic auth), to TWILIO_REGION/TWILIO_EDGE's IAM host (us1 alone is iam.twilio.com). The value
 * is `{status, body}` (body: IAM's JSON, or null) whatever the status but 429/503, thrown so that
 * the effect's `retry` repeats it. What the verdict means is crates/auth's `iam_verdict`.
 */
async function validateFlexToken(context, token) {
  const host = tw.productHost(context, 'iam').replace(/^iam\.us1\.twilio\.com$/, 'iam.twilio.com');
  const res = await twilioFetch(context, `https://${host}/v1/Accounts/${tw.requireEnv(context, 'ACCOUNT_SID')}/Tokens/validate`, {
    method: 'POST',
    headers: { 'Cache-Control': 'no-cache', 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const body = await res.json().catch(() => null);
  if (res.status === 429 || res.status === 503) throw answered(res, body);
  return { status: res.status, body };
}

/**
 * A recording's audio (`.wav` or `.mp3`) from api.twilio.com (TWILIO_REGION/TWILIO_EDGE's host).
 * The value is `{contentType, base64}`; a non-2xx answer is thrown with its status.
 */
async function recordingMedia(context, o) {
  const file = `${encodeURIComponent(o.recordingSid)}.${encodeURIComponent(o.format)}`;
  const res = await twilioFetch(context, `https://${tw.productHost(context, 'api')}/2010-04-01/Accounts/${tw.requireEnv(context, 'ACCOUNT_SID')}/Recordings/${file}`);
  if (!res.ok) throw answered(res, await res.json().catch(() => ({})));
  return { contentType: res.headers.get('content-type'), base64: Buffer.from(await res.arrayBuffer()).toString('base64') };
}

// The operations of crates/effects' `Op`, one request each, in the `twilio` client's words.
const OPS = {
  fetchCall: (c, o) => c.calls(o.callSid).fetch(),
  updateCall: (c, o) =>
    c.calls(o.callSid).update(given({ twiml: o.twiml, url: o.url, method: o.method, statusCallback: o.statusCallback, statusCallbackMethod: o.statusCallbackMethod, status: o.status })),
  fetchSyncItem: (c, o) => sync(c, o).syncMaps(o.map).syncMapItems(o.key).fetch(),
  listSyncItems: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems.list(given({ from: o.from, bounds: o.bounds, order: o.order, pageSize: o.pageSize, limit: o.limit })),
  createSyncMap: (c, o) => sync(c, o).syncMaps.create({ uniqueName: o.uniqueName }),
  createSyncItem: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems.create(given({ key: o.key, data: o.data, ttl: o.ttl })),
  updateSyncItem: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems(o.key)
      .update(given({ data: o.data, ttl: o.ttl, ifMatch: o.ifMatch })),
  deleteSyncItem: (c, o) =>
    sync(c, o)
      .syncMaps(o.map)
      .syncMapItems(o.key)
      .remove(o.ifMatch ? { ifMatch: o.ifMatch } : undefined),
  fetchSyncDocument: (c, o) => sync(c, o).documents(o.document).fetch(),
  createSyncDocument: (c, o) => sync(c, o).documents.create(given({ uniqueName: o.uniqueName, data: o.data, ttl: o.ttl })),
  updateSyncDocument: (c, o) =>
    sync(c, o)
      .documents(o.document)
      .update(given({ data: o.data, ttl: o.ttl, ifMatch: o.ifMatch })),
  deleteSyncDocument: (c, o) => sync(c, o).documents(o.document).remove(),
  updateSyncMapPermission: (c, o) => sync(c, o).syncMaps(o.map).syncMapPermissions(o.identity).update({ read: o.read, write: o.write, manage: o.manage }),
  updateSyncDocumentPermission: (c, o) => sync(c, o).documents(o.document).documentPermissions(o.identity).update({ read: o.read, write: o.write, manage: o.manage }),
  fetchTask: (c, o) => workspace(c, o).tasks(o.taskSid).fetch(),
  listTasks: (c, o) => workspace(c, o).tasks.list(given({ evaluateTaskAttributes: o.evaluateTaskAttributes, assignmentStatus: o.assignmentStatus, limit: o.limit })),
  listTaskReservations: (c, o) =>
    workspace(c, o)
      .tasks(o.taskSid)
      .reservations.list(given({ workerSid: o.workerSid, limit: o.limit })),
  listTaskQueues: (c, o) => workspace(c, o).taskQueues.list(given({ workerSid: o.workerSid, pageSize: o.pageSize, limit: o.limit })),
  listWorkers: (c, o) => workspace(c, o).workers.list(given({ taskQueueSid: o.taskQueueSid, pageSize: o.pageSize, limit: o.limit })),
  listActivities: (c, o) => workspace(c, o).activities.list(given({ pageSize: o.pageSize, limit: o.limit })),
  createTask: (c, o) => workspace(c, o).tasks.create(given({ workflowSid: o.workflowSid, taskChannel: o.taskChannel, priority: o.priority, attributes: o.attributes, timeout: o.timeout })),
  updateTask: (c, o) =>
    workspace(c, o)
      .tasks(o.taskSid)
      .update(given({ attributes: o.attributes, assignmentStatus: o.assignmentStatus, reason: o.reason, priority: o.priority, ifMatch: o.ifMatch })),
  updateWorkerChannel: (c, o) =>
    workspace(c, o)
      .workers(o.workerSid)
      .workerChannels(o.workerChannelSid)
      .update(given({ capacity: o.capacity, available: o.available })),
  fetchServerlessService: (c, o, context) => serverless(o.credentials ? clientAs(context, o.credentials) : c, o).fetch(),
  fetchServerlessEnvironment: (c, o) => serverless(c, o).environments(o.environmentSid).fetch(),
  listServerlessDeployments: (c, o) =>
    serverless(c, o)
      .environments(o.environmentSid)
      .deployments.list(given({ pageSize: o.pageSize, limit: o.limit })),
  listServerlessBuilds: (c, o) => serverless(c, o).builds.list(given({ pageSize: o.pageSize, limit: o.limit })),
  fetchServerlessBuild: (c, o) => serverless(c, o).builds(o.buildSid).fetch(),
  fetchServerlessBuildStatus: (c, o) => serverless(c, o).builds(o.buildSid).buildStatus().fetch(),
  createServerlessBuild: (c, o) => serverless(c, o).builds.create(given({ functionVersions: o.functionVersions, assetVersions: o.assetVersions, dependencies: o.dependencies, runtime: o.runtime })),
  deleteServerlessBuild: (c, o) => serverless(c, o).builds(o.buildSid).remove(),
  createServerlessDeployment: (c, o) => serverless(c, o).environments(o.environmentSid).deployments.create({ buildSid: o.buildSid }),
  listServerlessAssets: (c, o) => serverless(c, o).assets.list(given({ pageSize: o.pageSize, limit: o.limit })),
  createServerlessAsset: (c, o) => serverless(c, o).assets.create({ friendlyName: o.friendlyName }),
  uploadServerlessAssetVersion: (c, o, context) => uploadAssetVersion(context, o),
  validateFlexToken: (c, o, context) => validateFlexToken(context, o.token),
  fetchTaskQueueCumulativeStatistics: (c, o) =>
    workspace(c, o)
      .taskQueues(o.taskQueueSid)
      .cumulativeStatistics()
      .fetch(given({ startDate: o.startDate, endDate: o.endDate, minutes: o.minutes, splitByWaitTime: o.splitByWaitTime, taskChannel: o.taskChannel })),
  fetchTaskQueue: (c, o) => workspace(c, o).taskQueues(o.taskQueueSid).fetch(),
  fetchTaskQueueStatistics: (c, o) =>
    workspace(c, o)
      .taskQueues(o.taskQueueSid)
      .statistics()
      .fetch(given({ taskChannel: o.taskChannel, startDate: o.startDate, splitByWaitTime: o.splitByWaitTime })),
  createTaskQueueBulkRealTimeStatistics: (c, o) => workspace(c, o).taskQueues.bulkRealTimeStatistics.create(o.taskQueueSids),
  listTaskQueueStatistics: (c, o) => workspace(c, o).taskQueues.statistics.list(given({ minutes: o.minutes, taskChannel: o.taskChannel, pageSize: o.pageSize, limit: o.limit })),
  listEvents: (c, o) => workspace(c, o).events.list(given({ eventType: o.eventType, startDate: o.startDate, endDate: o.endDate, taskQueueSid: o.taskQueueSid, pageSize: o.pageSize, limit: o.limit })),
  listEventsPage: async (c, o) => {
    const page = await workspace(c, o).events.page(given({ eventType: o.eventType, startDate: o.startDate, endDate: o.endDate, pageSize: o.pageSize, pageNumber: o.page, pageToken: o.pageToken }));
    // The next page's position as Twilio gave it (its next_page_url), for the machine's next step.
    const url = page.nextPageUrl ? new URL(page.nextPageUrl) : null;
    const next = url && url.searchParams.get('PageToken') ? { page: Number(url.searchParams.get('Page')) || 0, pageToken: url.searchParams.get('PageToken') } : null;
    return { events: page.instances, next };
  },
  fetchWorker: (c, o) => workspace(c, o).workers(o.workerSid).fetch(),
  fetchWorkerChannel: (c, o) => workspace(c, o).workers(o.workerSid).workerChannels(o.workerChannelSid).fetch(),
  listWorkersMatching: (c, o) => workspace(c, o).workers.list(given({ targetWorkersExpression: o.targetWorkersExpression, pageSize: o.pageSize, limit: o.limit })),
  deleteRecording: (c, o) => c.recordings(o.recordingSid).remove(),
  fetchRecordingMedia: (c, o, context) => recordingMedia(context, o),
  fetchSyncService: (c, o) => c.sync.v1.services(o.serviceSid).fetch(),
};

/**
 * The emulator only (TWILIO_API_ORIGIN): the content of an uploaded asset version, which Twilio
 * serves only inside the build's runtime (a Function reads its private assets from disk there).
 */
async function emulatedAssetContent(context, versionSid) {
  const origin = tw.apiOrigin(context);
  const res = await fetch(`${origin}/emulator/serverless/asset-versions/${versionSid}/content`, { signal: AbortSignal.timeout(requestTimeoutMs()) });
  if (!res.ok) throw new Error(`the emulator has no content for ${versionSid} (HTTP ${res.status})`);
  return res.json();
}

/** A resource (or list of them) as plain JSON, as the machines read it. */
const plain = (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value)));

/** A failed request as the machines read it: Twilio's answer as it came, nothing decided. */
function failure(err) {
  if (err instanceof DeadlineError) return { ok: false, attempted: false, message: err.message };
  const out = { ok: false, attempted: true, message: (err && err.message) || String(err) };
  if (err && Number.isInteger(err.status) && err.status >= 100 && err.status <= 599) out.status = err.status;
  if (err && Number.isInteger(err.code) && err.code >= 0) out.code = err.code;
  if (err && typeof err.moreInfo === 'string') out.moreInfo = err.moreInfo;
  return out;
}

/**
 * Performs one effect with `client`; never throws: the outcome says how it went. `opts`
 * (optional) `{pace, retry, text}`: a pacer `pace(object, cost)` and `retry(fn)` in place of this
 * container's pacer and common/client's withRetry (a script's or benchmark's own clock); `text:
 * true`, a success carries its value as JSON text (`json`) instead of plain objects (see `run`).
 */
async function perform(context, client, effect, opts = {}) {
  const op = (effect && effect.op) || {};
  const request = OPS[op.kind];
  if (!request) return { ok: false, attempted: false, message: `the executor has no operation ${JSON.stringify(op.kind)}` };
  try {
    if (effect.delayMs > 0) {
      if (remainingMs() - effect.delayMs < MIN_START_MS) throw new DeadlineError(`Waiting ${effect.delayMs} ms would pass the deadline (a Function must answer within 10 s); not attempted.`);
      await sleep(effect.delayMs);
    }
    if (effect.pace) await (opts.pace || pace)(effect.pace.object, effect.pace.cost);
    const once = () => request(client, op, context);
    const retry = opts.retry || ((fn) => tw.withRetry(context, fn));
    const value = await (effect.retry ? retry(once) : once());
    if (opts.text) return { ok: true, json: value === undefined ? 'null' : JSON.stringify(value) };
    return { ok: true, value: plain(value) };
  } catch (err) {
    return failure(err);
  }
}

/** The outcomes of a step as one JSON text (values stringified once, never parsed here). */
const outcomesText = (outcomes) => `[${outcomes.map((o) => (o.json === undefined ? JSON.stringify(o) : `{"ok":true,"value":${o.json}}`)).join(',')}]`;

/**
 * Runs the machine `start` begins (a call on `mod`, a wasmModule whose face exports `resume`,
 * or the export `io` names) to its answer `{status, body, contentType?}`. A request the machine
 * refuses at the start (a bad parameter or setting) throws as callWasm does, before any Twilio
 * request. `io` (optional): the name of the resume export, or `{resume, client, now, pace,
 * retry, text}`: the resume export's name (default `resume`), a client (default one made from
 * `context`), the clock, perform's pacer and retry (the benchmarks' simulated clock), and `text:
 * true` to hand `resume` the outcomes as one JSON text (a machine that reads megabytes of listed
 * items and parses them itself: no object walked across the boundary, no parse and stringify
 * again).
 */
async function run(context, mod, start, io = {}) {
  const opts = typeof io === 'string' ? { resume: io } : io || {};
  let step = callWasm(mod, start);
  if (step.run && !opts.retry) tw.retrySettings(context); // a bad TWILIO_SERVICE_* setting is a 500 before any request
  const client = step.run ? opts.client || tw.twilioClient(context) : null;
  const resume = opts.resume || 'resume';
  const now = opts.now || Date.now;
  for (let steps = 0; step.run; steps += 1) {
    if (steps >= MAX_STEPS) throw new Error(`The machine did not answer after ${MAX_STEPS} steps; nothing further was attempted`);
    const { state } = step;
    const outcomes = await Promise.all(step.run.map((effect) => perform(context, client, effect, opts)));
    const given = opts.text ? outcomesText(outcomes) : outcomes;
    step = callWasm(mod, (wasm) => wasm[resume](state, given, now()));
  }
  return step.answer;
}

module.exports = { run, perform, OPS, emulatedAssetContent };
