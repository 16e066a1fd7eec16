// The executor of the effects protocol (docs/effects.md): the one place where a machine's Twilio
// requests are made. It performs every effect of a step at once, hands the machine their outcomes
// in order, and repeats until the machine answers.
//
//   return effects.run(context, wasmModule('call_handling'), (wasm) => wasm.startPark(request, env, settings, token, Date.now()));
//
// Guarantees (docs/effects.md, "What the executor guarantees"), for every effect:
// - deadline: each request has the invocation's timeout; one that cannot start is `attempted: false`;
// - retries: with `retry: true`, what values::env::Retry repeats (429, 503), within the deadline;
// - delay: with `delayMs`, sent that much later if the deadline allows, else not attempted;
// - pacing: with `pace: {object, cost}`, the write waits for room in the object's budget;
// - outcomes: Twilio's answer as it came, never thrown; what it means is decided in Rust.
const tw = require(Runtime.getFunctions()['common/client'].path);
const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { DeadlineError, remainingMs, requestTimeoutMs } = require(Runtime.getFunctions()['common/deadline'].path);
const twilio = require('twilio');
const { createPacer } = require(Runtime.getFunctions()['common/sync-pacer'].path);

const pace = createPacer(); // one per container: its writes share each object's budget
const MAX_STEPS = 200; // a machine ends long before; this only stops a broken one
const MIN_START_MS = 250; // a delayed effect must leave at least this much time to send it (common/deadline)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The fields `names` of `o` that are set (the client sends a null as the text "null"). */
const given = (o, names) => Object.fromEntries(names.filter((n) => o[n] !== undefined && o[n] !== null).map((n) => [n, o[n]]));

/** Op `o` as its row of OPS says: `[path, call, params?]` (`name(field)` calls with `o[field]`); params: names (the set ones), one name (as is) or none. */
function request(c, [path, call, params], o) {
  const at = path.split('.').reduce((x, segment) => {
    const [, name, field] = /^(\w+)(?:\((\w*)\))?$/.exec(segment);
    return field === undefined ? x[name] : field ? x[name](o[field]) : x[name]();
  }, c);
  return params === undefined ? at[call]() : at[call](typeof params === 'string' ? o[params] : given(o, params));
}

/** A request the `twilio` client cannot make: routed like its own, Basic auth (never in the URL), the deadline's timeout; an answer `fails` marks throws as its errors do. */
async function twilioFetch(context, url, { headers = {}, ...init } = {}, fails = (res) => !res.ok) {
  const basic = Buffer.from(`${tw.requireEnv(context, 'ACCOUNT_SID')}:${tw.requireEnv(context, 'AUTH_TOKEN')}`).toString('base64');
  const routed = tw.route(tw.apiOrigin(context), url);
  const res = await fetch(routed.uri, { ...init, headers: { ...headers, ...routed.headers, Authorization: `Basic ${basic}` }, signal: AbortSignal.timeout(requestTimeoutMs()) });
  if (!fails(res)) return res;
  const body = await res.json().catch(() => null); // Twilio's error answer: JSON {code, message, more_info}
  const err = new Error((body && body.message && String(body.message)) || `Twilio answered HTTP ${res.status}`);
  throw Object.assign(err, { status: res.status, code: body && Number.isInteger(body.code) ? body.code : undefined, moreInfo: body && body.more_info });
}

const [S, W, Z] = ['sync.v1.services(serviceSid)', 'taskrouter.v1.workspaces(workspaceSid)', 'serverless.v1.services(serviceSid)'];
/** A client with the caller's credentials instead of the service's own (fetchServerlessService). */
const clientAs = (context, { username, password }) =>
  twilio(username, password, { accountSid: tw.requireEnv(context, 'ACCOUNT_SID'), httpClient: new tw.TimedClient(tw.apiOrigin(context)), ...tw.regionOptions(context) });

// The operations of crates/effects' `Op`, one request each: a row in the `twilio` client's words
// (see `request`), or a function `(client, op, context)` for what a row cannot say.
const OPS = {
  fetchCall: ['calls(callSid)', 'fetch'],
  updateCall: ['calls(callSid)', 'update', ['twiml', 'url', 'method', 'statusCallback', 'statusCallbackMethod', 'status']],
  fetchSyncItem: [`${S}.syncMaps(map).syncMapItems(key)`, 'fetch'],
  listSyncItems: [`${S}.syncMaps(map).syncMapItems`, 'list', ['from', 'bounds', 'order', 'pageSize', 'limit']],
  createSyncMap: [`${S}.syncMaps`, 'create', ['uniqueName']],
  createSyncItem: [`${S}.syncMaps(map).syncMapItems`, 'create', ['key', 'data', 'ttl']],
  updateSyncItem: [`${S}.syncMaps(map).syncMapItems(key)`, 'update', ['data', 'ttl', 'ifMatch']],
  deleteSyncItem: [`${S}.syncMaps(map).syncMapItems(key)`, 'remove', ['ifMatch']],
  fetchSyncDocument: [`${S}.documents(document)`, 'fetch'],
  createSyncDocument: [`${S}.documents`, 'create', ['uniqueName', 'data', 'ttl']],
  updateSyncDocument: [`${S}.documents(document)`, 'update', ['data', 'ttl', 'ifMatch']],
  deleteSyncDocument: [`${S}.documents(document)`, 'remove'],
  updateSyncMapPermission: [`${S}.syncMaps(map).syncMapPermissions(identity)`, 'update', ['read', 'write', 'manage']],
  updateSyncDocumentPermission: [`${S}.documents(document).documentPermissions(identity)`, 'update', ['read', 'write', 'manage']],
  fetchSyncService: [S, 'fetch'],
  fetchTask: [`${W}.tasks(taskSid)`, 'fetch'],
  listTasks: [`${W}.tasks`, 'list', ['evaluateTaskAttributes', 'assignmentStatus', 'limit']],
  listTaskReservations: [`${W}.tasks(taskSid).reservations`, 'list', ['workerSid', 'limit']],
  listTaskQueues: [`${W}.taskQueues`, 'list', ['workerSid', 'pageSize', 'limit']],
  listWorkers: [`${W}.workers`, 'list', ['taskQueueSid', 'pageSize', 'limit']],
  listWorkersMatching: [`${W}.workers`, 'list', ['targetWorkersExpression', 'pageSize', 'limit']],
  listActivities: [`${W}.activities`, 'list', ['pageSize', 'limit']],
  createTask: [`${W}.tasks`, 'create', ['workflowSid', 'taskChannel', 'priority', 'attributes', 'timeout']],
  updateTask: [`${W}.tasks(taskSid)`, 'update', ['attributes', 'assignmentStatus', 'reason', 'priority', 'ifMatch']],
  fetchWorker: [`${W}.workers(workerSid)`, 'fetch'],
  fetchWorkerChannel: [`${W}.workers(workerSid).workerChannels(workerChannelSid)`, 'fetch'],
  updateWorkerChannel: [`${W}.workers(workerSid).workerChannels(workerChannelSid)`, 'update', ['capacity', 'available']],
  fetchTaskQueue: [`${W}.taskQueues(taskQueueSid)`, 'fetch'],
  fetchTaskQueueCumulativeStatistics: [`${W}.taskQueues(taskQueueSid).cumulativeStatistics()`, 'fetch', ['startDate', 'endDate', 'minutes', 'splitByWaitTime', 'taskChannel']],
  fetchTaskQueueStatistics: [`${W}.taskQueues(taskQueueSid).statistics()`, 'fetch', ['taskChannel', 'startDate', 'splitByWaitTime']],
  createTaskQueueBulkRealTimeStatistics: [`${W}.taskQueues.bulkRealTimeStatistics`, 'create', 'taskQueueSids'],
  listTaskQueueStatistics: [`${W}.taskQueues.statistics`, 'list', ['minutes', 'taskChannel', 'pageSize', 'limit']],
  listEvents: [`${W}.events`, 'list', ['eventType', 'startDate', 'endDate', 'taskQueueSid', 'pageSize', 'limit']],
  listEventsPage: async (c, o) => {
    const page = await request(c, [`${W}.events`, 'page', ['eventType', 'startDate', 'endDate', 'pageSize', 'pageNumber', 'pageToken']], { ...o, pageNumber: o.page });
    const url = page.nextPageUrl ? new URL(page.nextPageUrl) : null; // the next page as Twilio gave it
    const next = url && url.searchParams.get('PageToken') ? { page: Number(url.searchParams.get('Page')) || 0, pageToken: url.searchParams.get('PageToken') } : null;
    return { events: page.instances, next };
  },
  fetchServerlessService: (c, o, context) => request(o.credentials ? clientAs(context, o.credentials) : c, [Z, 'fetch'], o),
  fetchServerlessEnvironment: [`${Z}.environments(environmentSid)`, 'fetch'],
  listServerlessDeployments: [`${Z}.environments(environmentSid).deployments`, 'list', ['pageSize', 'limit']],
  createServerlessDeployment: [`${Z}.environments(environmentSid).deployments`, 'create', ['buildSid']],
  listServerlessBuilds: [`${Z}.builds`, 'list', ['pageSize', 'limit']],
  fetchServerlessBuild: [`${Z}.builds(buildSid)`, 'fetch'],
  fetchServerlessBuildStatus: [`${Z}.builds(buildSid).buildStatus()`, 'fetch'],
  createServerlessBuild: [`${Z}.builds`, 'create', ['functionVersions', 'assetVersions', 'dependencies', 'runtime']],
  deleteServerlessBuild: [`${Z}.builds(buildSid)`, 'remove'],
  listServerlessAssets: [`${Z}.assets`, 'list', ['pageSize', 'limit']],
  createServerlessAsset: [`${Z}.assets`, 'create', ['friendlyName']],
  uploadServerlessAssetVersion: async (c, o, context) => {
    const form = new FormData(); // multipart on Twilio's upload host: the `twilio` client cannot upload
    form.append('Path', o.path);
    form.append('Visibility', o.visibility);
    form.append('Content', new Blob([o.content], { type: o.contentType }), o.path.split('/').pop() || 'content');
    const res = await twilioFetch(context, `https://serverless-upload.twilio.com/v1/Services/${o.serviceSid}/Assets/${o.assetSid}/Versions`, { method: 'POST', body: form });
    return res.json().catch(() => ({}));
  },
  validateFlexToken: async (c, o, context) => {
    const url = `https://${tw.productHost(context, 'iam')}/v1/Accounts/${tw.requireEnv(context, 'ACCOUNT_SID')}/Tokens/validate`;
    const init = { method: 'POST', headers: { 'Cache-Control': 'no-cache', 'Content-Type': 'application/json' }, body: JSON.stringify({ token: o.token }) };
    const res = await twilioFetch(context, url, init, (r) => tw.retried(r.status)); // a 429/503 for the effect's `retry`; else IAM's verdict
    return { status: res.status, body: await res.json().catch(() => null) };
  },
  deleteRecording: ['recordings(recordingSid)', 'remove'],
  fetchRecordingMedia: async (c, o, context) => {
    const file = `${encodeURIComponent(o.recordingSid)}.${encodeURIComponent(o.format)}`;
    const res = await twilioFetch(context, `https://${tw.productHost(context, 'api')}/2010-04-01/Accounts/${tw.requireEnv(context, 'ACCOUNT_SID')}/Recordings/${file}`);
    return { contentType: res.headers.get('content-type'), base64: Buffer.from(await res.arrayBuffer()).toString('base64') };
  },
};

/** The emulator only: an uploaded asset version's content (Twilio serves it only inside the build's runtime). */
async function emulatedAssetContent(context, versionSid) {
  const res = await fetch(`${tw.apiOrigin(context)}/emulator/serverless/asset-versions/${versionSid}/content`, { signal: AbortSignal.timeout(requestTimeoutMs()) });
  if (!res.ok) throw new Error(`the emulator has no content for ${versionSid} (HTTP ${res.status})`);
  return res.json();
}

/** A failed request as the machines read it: Twilio's answer as it came, nothing decided. */
function failure(err) {
  if (err instanceof DeadlineError) return { ok: false, attempted: false, message: err.message };
  const { status, code, moreInfo } = err || {};
  const out = { ok: false, attempted: true, message: (err && err.message) || String(err) };
  return Object.assign(out, Number.isInteger(status) && status >= 100 && status <= 599 && { status }, Number.isInteger(code) && code >= 0 && { code }, typeof moreInfo === 'string' && { moreInfo });
}

/** Performs one effect with `client`; never throws. `opts`: `{pace, retry, text}` (docs/effects.md, "The executor's options"). */
async function perform(context, client, effect, opts = {}) {
  const op = (effect && effect.op) || {};
  const row = Object.hasOwn(OPS, op.kind) ? OPS[op.kind] : null;
  if (!row) return { ok: false, attempted: false, message: `the executor has no operation ${JSON.stringify(op.kind)}` };
  try {
    if (effect.delayMs > 0) {
      if (remainingMs() - effect.delayMs < MIN_START_MS) throw new DeadlineError(`Waiting ${effect.delayMs} ms would pass the deadline (a Function must answer within 10 s); not attempted.`);
      await sleep(effect.delayMs);
    }
    if (effect.pace) await (opts.pace || pace)(effect.pace.object, effect.pace.cost);
    const once = () => (typeof row === 'function' ? row(client, op, context) : request(client, row, op));
    const value = await (effect.retry ? (opts.retry || ((fn) => tw.withRetry(context, fn)))(once) : once());
    if (opts.text) return { ok: true, json: value === undefined ? 'null' : JSON.stringify(value) };
    return { ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) }; // plain JSON
  } catch (err) {
    return failure(err);
  }
}

/** The outcomes of a step as one JSON text (values stringified once, never parsed here). */
const outcomesText = (outcomes) => `[${outcomes.map((o) => (o.json === undefined ? JSON.stringify(o) : `{"ok":true,"value":${o.json}}`)).join(',')}]`;

/** Runs the machine `start` begins on `mod` to its answer `{status, body, contentType?}`; `io`: the resume export's name or the options (docs/effects.md). */
async function run(context, mod, start, io = {}) {
  const opts = typeof io === 'string' ? { resume: io } : io || {};
  let step = callWasm(mod, start); // a request refused at the start throws as callWasm does, before any request
  if (step.run && !opts.retry) tw.retrySettings(context); // a bad TWILIO_SERVICE_* setting is a 500 before any request
  const client = step.run ? opts.client || tw.twilioClient(context) : null;
  const resume = opts.resume || 'resume';
  const now = opts.now || Date.now;
  for (let steps = 0; step.run; steps += 1) {
    if (steps >= MAX_STEPS) throw new Error(`The machine did not answer after ${MAX_STEPS} steps; nothing further was attempted`);
    const { state } = step;
    const outcomes = await Promise.all(step.run.map((effect) => perform(context, client, effect, opts)));
    step = callWasm(mod, (wasm) => wasm[resume](state, opts.text ? outcomesText(outcomes) : outcomes, now()));
  }
  return step.answer;
}

module.exports = { run, perform, OPS, emulatedAssetContent };
