// Agent history (docs/agent-history.md): the agent-history wasm module decides (which record an
// event goes to, what it adds, the query, the series); this file reads and writes Sync items and
// lists TaskRouter's activities and workers.
//
//   const { createAgentHistory } = require(Runtime.getFunctions()['common/agent-history'].path);
//   const agents = createAgentHistory({ ah, client, workspaceSid, syncServiceSid, retry, now });
//   await agents.record(fields)              // the event callback's hook: one item read, at most one write
//   await agents.series(params, { names })   // GET /agent-history (names false: the wallboard key)
//
//   agentHistoryHook(context, fields)        // the event callback's one line: never throws; off when
//                                            // AGENT_HISTORY_ENABLED is "false"
//   agentHistoryFor(context)                 // this container's instance, for GET /agent-history
//
// createAgentHistory requires nothing from Runtime, so the benchmark drives this same code.
//
// Per event: the record of the event's agent and UTC hour is read (one Sync item), the module adds
// the event's fact, and the item is written only when the fact is new (a duplicate writes nothing).
// Writers of one item are serialized by its revision (If-Match); a 412 or a lost create reads again.
// An item the module finds full sends the event to the hour's next chunk. Writes to one map are
// paced to 80 % of Sync's per-object budget (items count against their map), by this container.
// Records older than AGENT_HISTORY_RETENTION_DAYS are deleted a few per event (Sync's TTLs cannot
// exceed a year, and the default is 400 days): the expired keys are listed once an hour.
const BUDGET_SHARE = 0.8;
const CONCURRENCY = 16; // Sync listings in flight for GET /agent-history
const ATTEMPTS = 4; // reads of one item when other writers win (412, a create that lost)
const MAX_CHUNKS = 16;
const ACTIVITIES_TTL_MS = 10 * 60000; // the workspace's activity names, re-listed at most this often
const WORKERS_TTL_MS = 60000; // the directory for GET /agent-history
const PRUNE_EVERY_MS = 3600000;
const PRUNE_PER_EVENT = 2;

const notFound = (err) => err && (err.status === 404 || err.code === 20404);
const duplicate = (err) => err && (err.code === 54208 || err.code === 54301 || err.status === 409);
const conflict = (err) => err && (err.status === 412 || err.code === 54103);
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `jobs` (functions) with at most `n` in flight. */
async function pool(jobs, n) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return results;
}

function createAgentHistory({ ah, client, workspaceSid, syncServiceSid, retry = (fn) => fn(), now = Date.now, sleep = realSleep, keySeesNames = false }) {
  const ws = () => client.taskrouter.v1.workspaces(workspaceSid);
  const sync = () => client.sync.v1.services(syncServiceSid);
  const items = (map) => sync().syncMaps(map).syncMapItems;
  const counts = { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 };
  const writes = new Map(); // map -> [{at, cost}] of the last second (pacing)
  const names = {}; // WA… -> friendly name: learned from events, and listed when one is unknown
  let activitiesAt = -Infinity;
  let workers = { at: -Infinity, list: null };
  const prune = { at: -Infinity, queue: [] };

  /** Runs the write `fn` to `map` once the map's budget of the last second has room for `cost`. */
  async function paced(map, cost, fn) {
    for (;;) {
      const t = now();
      const recent = (writes.get(map) || []).filter((w) => t - w.at < 1000);
      writes.set(map, recent);
      if (recent.reduce((sum, w) => sum + w.cost, 0) + cost <= BUDGET_SHARE || !recent.length) break;
      await sleep(recent[0].at + 1000 - t);
    }
    writes.get(map).push({ at: now(), cost });
    counts.syncWrites += 1;
    return retry(fn);
  }

  async function fetchItem(map, key) {
    counts.syncReads += 1;
    try {
      return await retry(() => items(map)(key).fetch());
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  /** Creates the item (and its map when missing); a duplicate key throws. */
  async function createItem(map, key, data, cost) {
    const create = () => paced(map, cost, () => items(map).create({ key, data }));
    try {
      return await create();
    } catch (err) {
      if (!notFound(err)) throw err;
      try {
        counts.syncWrites += 1;
        await retry(() => sync().syncMaps.create({ uniqueName: map }));
      } catch (err2) {
        if (!duplicate(err2)) throw err2;
      }
      return create();
    }
  }

  /** Names the previous activity of a `worker.activity.update` given by SID only. */
  async function activityNames(fields) {
    if (fields.WorkerActivitySid && fields.WorkerActivityName) names[fields.WorkerActivitySid] = String(fields.WorkerActivityName);
    const previous = fields.WorkerPreviousActivitySid;
    if (!previous || fields.WorkerPreviousActivityName || names[previous] || now() - activitiesAt < ACTIVITIES_TTL_MS) return;
    activitiesAt = now();
    counts.taskrouterCalls += 1;
    const list = await retry(() => ws().activities.list({ pageSize: 1000 }));
    for (const a of list) names[a.sid] = a.friendlyName;
  }

  /** Deletes a few records past retention; lists them once an hour (one page per map). */
  async function pruneSome() {
    if (now() - prune.at >= PRUNE_EVERY_MS) {
      prune.at = now();
      for (const range of ah.expired(now())) {
        counts.syncReads += 1;
        try {
          const page = await retry(() => items(range.map).page({ order: 'asc', pageSize: 100 }));
          for (const item of page.instances) if (item.key <= range.to) prune.queue.push({ map: range.map, key: item.key });
        } catch (err) {
          if (!notFound(err)) throw err;
        }
      }
    }
    for (const { map, key } of prune.queue.splice(0, PRUNE_PER_EVENT)) {
      try {
        await paced(map, ah.writeCost(0), () => items(map)(key).remove());
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    }
  }

  /**
   * The event callback's hook: adds the event's fact to its agent-hour record. Answers what it did
   * and what it cost: {kept, written, chunk, taskrouterCalls, syncReads, syncWrites}.
   */
  async function record(fields) {
    const before = { ...counts };
    const out = { kept: false, written: false };
    await activityNames(fields);
    for (let chunk = 0; chunk < MAX_CHUNKS; chunk += 1) {
      const place = ah.place(fields, names, chunk);
      if (!place) break;
      out.kept = true;
      out.chunk = chunk;
      let full = false;
      for (let attempt = 0; attempt < ATTEMPTS && !full; attempt += 1) {
        const item = await fetchItem(place.map, place.key);
        const result = ah.apply(item ? item.data : null, fields, names, chunk);
        if (result.applied === 'full') full = true;
        else if (result.applied !== 'changed') return finish(out, before);
        else {
          try {
            if (item) await paced(place.map, result.cost, () => items(place.map)(place.key).update({ data: result.data, ifMatch: item.revision }));
            else await createItem(place.map, place.key, result.data, result.cost);
            out.written = true;
            return finish(out, before);
          } catch (err) {
            if (!conflict(err) && !duplicate(err) && !notFound(err)) throw err;
            // Another writer changed the item first: read it again.
          }
        }
      }
      if (!full) throw new Error(`agent history: ${place.key} kept changing under ${ATTEMPTS} attempts`);
    }
    return finish(out, before);
  }

  async function finish(out, before) {
    if (out.kept) await pruneSome();
    for (const k of Object.keys(counts)) out[k] = counts[k] - before[k];
    return out;
  }

  /** The items of one listing ({map, from, to}, keys inclusive), as JSON texts of their data. */
  async function readRange({ map, from, to }) {
    const out = [];
    try {
      counts.syncReads += 1;
      let page = await retry(() => items(map).page({ from, order: 'asc', pageSize: 100 }));
      for (;;) {
        let past = false;
        for (const item of page.instances) {
          if (item.key > to) past = true;
          else out.push(JSON.stringify(item.data));
        }
        if (past || !page.nextPageUrl) break;
        counts.syncReads += 1;
        page = await retry(() => page.nextPage());
        if (!page) break;
      }
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    return out;
  }

  /** TaskRouter's workers (names and team attribute), listed at most once a minute. */
  async function directory() {
    if (!workers.list || now() - workers.at > WORKERS_TTL_MS) {
      counts.taskrouterCalls += 1;
      const list = await retry(() => ws().workers.list({ pageSize: 1000 }));
      workers = { at: now(), list: list.map((w) => ({ sid: w.sid, friendlyName: w.friendlyName, attributes: w.attributes })) };
    }
    return workers.list;
  }

  /**
   * GET /agent-history: the series of the closed hours asked for, from the records. A listing that
   * fails leaves its keys out and is named in `missing` (the answer is partial, never wrong silently).
   */
  async function series(params, { names: withNames = true } = {}) {
    const query = ah.query(params, now());
    if (!withNames) ah.keyAccess(query, keySeesNames);
    const ranges = ah.listings(query);
    const [dir, lists] = await Promise.all([
      directory(),
      pool(ranges.map((r) => () => readRange(r).then((texts) => ({ texts }), (err) => ({ texts: [], error: err }))), CONCURRENCY),
    ]);
    const missing = [];
    const texts = [];
    lists.forEach((l, i) => {
      if (l.error) missing.push({ map: ranges[i].map, from: ranges[i].from, to: ranges[i].to, reason: `Sync failed: ${l.error.status || ''} ${l.error.message}`.trim() });
      for (const t of l.texts) texts.push(t);
    });
    const answer = ah.aggregate(query, `[${texts.join(',')}]`, dir, withNames || keySeesNames);
    answer.missing = missing;
    answer.records = texts.length;
    return answer;
  }

  return { record, series, counts, names };
}

// One instance per container for the functions; the wasm module through the loader (a trap reloads it).
let instance = null;
let env = {};

function agentHistoryFor(context) {
  const tw = require(Runtime.getFunctions()['common/client'].path);
  env = Object.fromEntries(Object.entries(context).filter(([key, value]) => (key === 'QUEUE_STATS_TIME_ZONE' || key.startsWith('AGENT_HISTORY_')) && typeof value === 'string'));
  if (!instance) {
    const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
    const mod = wasmModule('agent_history', (wasm) => new wasm.AgentHistory(env));
    const ah = new Proxy({}, { get: (_, name) => (...args) => callWasm(mod, (wasm, state) => state[name](...args)) });
    instance = createAgentHistory({
      ah,
      client: tw.twilioClient(context),
      workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
      syncServiceSid: tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID'),
      retry: (fn) => tw.withRetry(context, fn),
      keySeesNames: String(context.AGENT_HISTORY_KEY_SEES_NAMES || '').trim().toLowerCase() === 'true',
    });
  }
  return instance;
}

/** The event callback's hook: never throws (its failure is reported in the callback's answer). */
async function agentHistoryHook(context, fields) {
  try {
    if (String(context.AGENT_HISTORY_ENABLED || '').trim().toLowerCase() === 'false') return { off: true };
    return await agentHistoryFor(context).record(fields);
  } catch (err) {
    return { error: err.message };
  }
}

module.exports = { createAgentHistory, agentHistoryFor, agentHistoryHook };
