// POST /direct-extension (Studio's Run Function widget; form or JSON `extension`)
// -> {valid, extension, workerSid, workerName, available, reason, activityName, capacityChecked, message}
// Whether the digits a caller entered reach one agent (worker attribute `directExtension`) who can
// take a call now. crates/direct-calls decides the one TaskRouter read a call makes (the workers
// with a target-workers expression, or the worker's voice channel, or none: what this container
// read in the last DIRECT_EXTENSION_CACHE_SECONDS) and the answer. Protected: Studio signs its
// requests, so only this account's flows (and Twilio) reach it. See docs/direct-calls.md.
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { handle } = require(Runtime.getFunctions()['common/http'].path);
const tw = require(Runtime.getFunctions()['common/client'].path);

const direct = wasmModule('direct_calls');
const directory = new Map(); // extension -> {at, workers: [rows]}
const voice = new Map(); // worker SID -> {at, channel}
const text = (v) => (v === undefined || v === null ? undefined : String(v));

// Bounded memory: past 1,000 entries, those older than the longest cache allowed (60 s) go.
const prune = (map, now) => map.forEach((v, k) => now - v.at >= 60000 && map.delete(k));

exports.handler = handle(async (context, event) => {
  const now = Date.now();
  if (directory.size > 1000) prune(directory, now);
  if (voice.size > 1000) prune(voice, now);
  const known = directory.get(String(event.extension).trim());
  const single = known && known.workers.length === 1 ? voice.get(known.workers[0].sid) : undefined;
  const plan = callWasm(direct, (wasm) =>
    wasm.plan({
      extension: text(event.extension),
      cacheSeconds: text(context.DIRECT_EXTENSION_CACHE_SECONDS),
      directoryAgeMs: known ? now - known.at : null,
      directoryWorkers: known ? known.workers.map((w) => w.sid) : [],
      voiceAgeMs: single ? now - single.at : null,
    }),
  );
  const { read } = plan;
  if (read.kind !== 'none') {
    const workers = tw.twilioClient(context).taskrouter.v1.workspaces(tw.requireEnv(context, 'WORKSPACE_SID')).workers;
    if (read.kind === 'workers') {
      const page = await tw
        .withRetry(context, () => workers.page({ targetWorkersExpression: read.targetWorkersExpression, pageSize: read.pageSize }))
        .catch((err) => {
          throw tw.twilioFailure(`Looking up extension ${plan.extension}`, err);
        });
      const rows = page.instances.map(({ sid, friendlyName, activityName, available, attributes }) => ({ sid, friendlyName, activityName, available, attributes }));
      directory.set(plan.extension, { at: now, workers: rows });
    } else {
      const c = await tw
        .withRetry(context, () => workers(read.workerSid).workerChannels('voice').fetch())
        .catch((err) => {
          if (err && err.status === 404) return null; // the worker was deleted since the lookup
          throw tw.twilioFailure(`Reading the voice channel of ${read.workerSid}`, err);
        });
      if (c) voice.set(read.workerSid, { at: now, channel: { workerSid: read.workerSid, configuredCapacity: c.configuredCapacity, assignedTasks: c.assignedTasks, available: c.available } });
      else directory.set(plan.extension, { at: now, workers: [] });
    }
  }
  const entry = directory.get(plan.extension);
  const workersKnown = entry ? entry.workers : [];
  const channel = workersKnown.length === 1 && voice.get(workersKnown[0].sid);
  const fresh = channel && now - channel.at < plan.cacheMs ? channel.channel : null;
  return { status: 200, body: callWasm(direct, (wasm) => wasm.answer({ extension: plan.extension, workers: workersKnown, voice: fresh })) };
});
