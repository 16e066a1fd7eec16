// The live agents view's I/O (docs/agents-live.md): crates/agents-live decides (which shard, what
// to fetch, the new shard document and its name-free counts); this file reads and writes.
//
//   const { agentsLiveTick } = require(Runtime.getFunctions()['common/agents-live'].path);
//   const summary = await agentsLiveTick(context, event);   // the event callback's hook; never throws
//   await agentsLiveUnheard(context, workerSid, unheard);   // a worker's unheard voicemails (voicemail functions); never throws
//   // {plan, taskrouterCalls, syncReads, syncWrites, errors} | {off: reason} | {error}
//
//   createAgentsLive({ al, client, workspaceSid, boardSid, parkingSid, retry, now, sleep })
//   // the same, with everything injected (scripts/bench-agents-live.js drives it with a simulated clock)
//
// One instance per warm container. Per shard, one write at a time: events arriving while a shard
// is being written (or waits for write budget) join the next write, so a burst costs one write.
// Writes carry If-Match of the revision this container read or wrote; a 412 (another container
// wrote) re-reads the shard and applies the waiting events again (the crate's records make that
// idempotent). Each write is paced against its object's size-dependent budget (crates/agents-live
// `write_cost`, 90 % of it, as queue statistics do).
const BUDGET_SHARE = 0.9;
const DEADLINE_MS = 8000;
const ATTEMPTS = 4;

const notFound = (err) => err && err.status === 404;
const conflict = (err) => err && (err.status === 412 || err.code === 54103);
const duplicate = (err) => err && (err.code === 54301 || err.code === 54208 || err.status === 409);
const describe = (err) => (err && err.message ? `${err.message}${err.code ? ` (${err.code})` : ''}` : String(err));
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function createAgentsLive({ al, client, workspaceSid, boardSid, parkingSid = null, retry = (fn) => fn(), now = Date.now, sleep = realSleep }) {
  const shards = new Map(); // n -> {loaded, text, revision, pending: [{input, stats, resolve}], running}
  const counts = new Map(); // n -> {revision, seq}
  const membership = new Map(); // WK -> {queues: [{sid, friendlyName}], at}
  const granted = new Set();
  const recent = new Map(); // object -> [{at, cost}]
  const indexed = new Set(); // shards this container found in (or added to) the index document
  const board = () => client.sync.v1.services(boardSid);
  const write = (stats, fn) => ((stats.syncWrites += 1), retry(fn));
  const read = (stats, fn) => ((stats.syncReads += 1), retry(fn));

  /** Waits until `cost` fits in the object's budget for the last second. */
  async function budget(object, cost) {
    for (;;) {
      const t = now();
      const list = (recent.get(object) || []).filter((x) => t - x.at < 1000);
      recent.set(object, list);
      const used = list.reduce((sum, x) => sum + x.cost, 0);
      if (!list.length || used + cost <= BUDGET_SHARE) return;
      await sleep(list[0].at + 1000 - t);
    }
  }
  const spend = (object, cost) => recent.get(object).push({ at: now(), cost });

  /** Read permission for the identities the crate names, once per object and container. */
  async function grant(stats, document, isShard) {
    for (const identity of al.readers(isShard)) {
      if (granted.has(`${document}|${identity}`)) continue;
      await write(stats, () => board().documents(document).documentPermissions(identity).update({ read: true, write: false, manage: false }));
      granted.add(`${document}|${identity}`);
    }
  }

  async function load(stats, n, name) {
    const s = shards.get(n);
    try {
      const doc = await read(stats, () => board().documents(name).fetch());
      Object.assign(s, { loaded: true, text: JSON.stringify(doc.data), revision: String(doc.revision) });
    } catch (err) {
      if (!notFound(err)) throw err;
      Object.assign(s, { loaded: true, text: null, revision: null });
    }
  }

  async function storeShard(stats, n, name, data) {
    const s = shards.get(n);
    if (s.revision === null) {
      try {
        return await write(stats, () => board().documents.create({ uniqueName: name, data }));
      } catch (err) {
        if (duplicate(err)) throw Object.assign(new Error('created meanwhile'), { status: 412 });
        throw err;
      }
    }
    return write(stats, () => board().documents(name).update({ data, ifMatch: s.revision }));
  }

  /** The counts document follows the shard: never replaced by counts of an older shard version. */
  async function storeCounts(stats, n, data, cost) {
    const name = `${al.settings().countsPrefix}${n}`;
    const known = counts.get(n) || { revision: null, seq: -1 };
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      if (known.seq >= data.seq) return;
      await budget(name, cost);
      spend(name, cost);
      try {
        const written =
          known.revision === null
            ? await write(stats, () => board().documents.create({ uniqueName: name, data }))
            : await write(stats, () => board().documents(name).update({ data, ifMatch: known.revision }));
        counts.set(n, { revision: String(written.revision), seq: data.seq });
        return;
      } catch (err) {
        if (!conflict(err) && !duplicate(err) && !notFound(err)) throw err;
      }
      try {
        const found = await read(stats, () => board().documents(name).fetch());
        Object.assign(known, { revision: String(found.revision), seq: Number(found.data && found.data.seq) || -1 });
      } catch (err) {
        if (!notFound(err)) throw err;
        Object.assign(known, { revision: null, seq: -1 });
      }
      counts.set(n, known);
    }
  }

  /**
   * The index document (`agentsLive.shards`: {shards: [n…]}) lists the shards that exist, so a
   * board opens only those and learns of a new one live. Checked once per shard and container;
   * shards waiting to be added join one write (a burst of new shards costs one or two writes).
   */
  const indexing = { waiting: new Map(), running: null }; // n -> [resolve]
  function ensureIndexed(stats, n) {
    if (indexed.has(n)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      indexing.waiting.set(n, [...(indexing.waiting.get(n) || []), { resolve, reject }]);
      if (!indexing.running) indexing.running = drainIndex(stats).finally(() => (indexing.running = null));
    });
  }
  async function drainIndex(stats) {
    const name = al.settings().indexDocument;
    while (indexing.waiting.size) {
      await budget(name, 0.05);
      const batch = new Map(indexing.waiting);
      indexing.waiting.clear();
      let error = null;
      try {
        for (let attempt = 0; ; attempt += 1) {
          let doc = null;
          try {
            doc = await read(stats, () => board().documents(name).fetch());
          } catch (err) {
            if (!notFound(err)) throw err;
          }
          const list = doc && doc.data && Array.isArray(doc.data.shards) ? doc.data.shards : [];
          const missing = [...batch.keys()].filter((n) => !list.includes(n));
          if (!missing.length) break;
          const data = { shards: [...list, ...missing].sort((a, b) => a - b) };
          spend(name, 0.05);
          try {
            if (doc)
              await write(stats, () =>
                board()
                  .documents(name)
                  .update({ data, ifMatch: String(doc.revision) }),
              );
            else await write(stats, () => board().documents.create({ uniqueName: name, data }));
            break;
          } catch (err) {
            // Another container wrote the index meanwhile: read it again (each attempt adds ours).
            if ((!conflict(err) && !duplicate(err) && !notFound(err)) || attempt >= 10) throw err;
            await budget(name, 0.05);
          }
        }
        await grant(stats, name, false);
        batch.forEach((_, n) => indexed.add(n));
      } catch (err) {
        error = err;
      }
      batch.forEach((waiters) => waiters.forEach((w) => (error ? w.reject(error) : w.resolve())));
    }
  }

  async function drain(n, name) {
    const s = shards.get(n);
    s.running = true;
    while (s.pending.length) {
      // Wait for budget first: events arriving meanwhile join this write.
      await budget(name, s.lastCost || 0.05);
      const batch = s.pending.splice(0);
      const owner = batch[0].stats;
      // Events whose write failed ride along with the next write of this shard (applying an event
      // twice changes nothing), so a failed write loses nothing once the shard is written again.
      const carried = s.carry || [];
      const inputs = JSON.stringify([...carried, ...batch.map((b) => b.input)]);
      let error = null;
      try {
        for (let attempt = 0; ; attempt += 1) {
          if (!s.loaded) await load(owner, n, name);
          const out = al.apply(n, s.text, inputs, now());
          if (out.tooLarge) throw new Error(out.tooLarge);
          if (!out.changed) break;
          try {
            spend(name, out.cost);
            const written = await storeShard(owner, n, name, out.document);
            Object.assign(s, { text: JSON.stringify(out.document), revision: String(written.revision), lastCost: out.cost });
          } catch (err) {
            if ((conflict(err) || notFound(err)) && attempt + 1 < ATTEMPTS) {
              s.loaded = false; // another container wrote (or removed it): read it again and re-apply
              continue;
            }
            throw err;
          }
          await grant(owner, name, true);
          if (out.countsChanged) {
            const countsName = `${al.settings().countsPrefix}${n}`;
            await storeCounts(owner, n, out.counts, out.countsCost);
            await grant(owner, countsName, false);
          }
          await ensureIndexed(owner, n);
          break;
        }
        s.carry = [];
      } catch (err) {
        s.loaded = false;
        s.carry = [...carried, ...batch.map((b) => b.input)].slice(-200);
        error = `shard ${n}: ${describe(err)} (kept for the shard's next write)`;
      }
      batch.forEach((b) => b.resolve(error));
    }
    s.running = false;
  }

  function enqueue(stats, n, name, input) {
    if (!shards.has(n)) shards.set(n, { loaded: false, text: null, revision: null, pending: [], running: false, lastCost: 0.05, carry: [] });
    const s = shards.get(n);
    return new Promise((resolve) => {
      s.pending.push({ input, stats, resolve });
      if (!s.running) drain(n, name);
    });
  }

  async function fetchQueues(stats, workerSid) {
    stats.taskrouterCalls += 1;
    const list = await retry(() => client.taskrouter.v1.workspaces(workspaceSid).taskQueues.list({ workerSid }));
    const queues = list.map((q) => ({ sid: q.sid, friendlyName: q.friendlyName }));
    membership.set(workerSid, { queues, at: now() });
    return queues;
  }

  async function fetchParked(stats, workerSid) {
    if (!parkingSid) return null;
    try {
      const items = await read(stats, () => client.sync.v1.services(parkingSid).syncMaps(`${workerSid}.ParkedCalls`).syncMapItems.list({ pageSize: 100, limit: 100 }));
      return items.map((i) => i.data);
    } catch (err) {
      if (notFound(err)) return [];
      throw err;
    }
  }

  /** `prefetched.queues` (optional): the worker's queues, already known (a seeded floor). */
  async function handle(event, prefetched = {}) {
    const stats = { plan: null, taskrouterCalls: 0, syncReads: 0, syncWrites: 0, errors: [] };
    const known = event && membership.get(event.WorkerSid);
    const plan = al.plan(event, known ? now() - known.at : null);
    stats.plan = { action: plan.action, reason: plan.reason, shard: plan.shard };
    if (plan.action !== 'apply') return stats;
    const fetched = {};
    if (prefetched.queues) membership.set(plan.workerSid, { queues: prefetched.queues, at: now() });
    try {
      const [queues, parked] = await Promise.all([prefetched.queues || (plan.fetchQueues ? fetchQueues(stats, plan.workerSid) : null), plan.fetchParked ? fetchParked(stats, plan.workerSid) : null]);
      if (queues) fetched.queues = queues;
      if (parked) fetched.parked = parked;
    } catch (err) {
      // The event still applies; what could not be read is kept from before.
      stats.errors.push(`reading the worker's queues or parked calls: ${describe(err)}`);
    }
    const error = await enqueue(stats, plan.shard, plan.document, { event, fetched });
    if (error) stats.errors.push(error);
    return stats;
  }

  return { handle, shards };
}

// The functions' instance, one per container.
let instance = null;
let loadedModule = null;

function boardSidOf(context) {
  const sid = context.WALLBOARD_SYNC_SID ? String(context.WALLBOARD_SYNC_SID) : '';
  const flex = context.TWILIO_FLEX_SYNC_SID ? String(context.TWILIO_FLEX_SYNC_SID) : '';
  return sid && sid !== flex && sid !== String(context.SYNC_SERVICE_SID || '') ? sid : null;
}

/** The wasm instance for this container's settings (AGENTS_LIVE_*, QUEUE_STATS_TIME_ZONE). */
function agentsLiveModule(context) {
  if (!loadedModule) {
    const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
    const env = Object.fromEntries(Object.entries(context).filter(([key, value]) => (key.startsWith('AGENTS_LIVE_') || key === 'QUEUE_STATS_TIME_ZONE') && typeof value === 'string'));
    loadedModule = wasmModule('agents_live', (wasm) => new wasm.AgentsLive(env));
  }
  return loadedModule;
}

/** This container's writer, or `{off}`. */
function writerOf(context) {
  if (
    String(context.AGENTS_LIVE_ENABLED || '')
      .trim()
      .toLowerCase() === 'false'
  )
    return { off: 'AGENTS_LIVE_ENABLED is false' };
  const boardSid = boardSidOf(context);
  if (!boardSid) return { off: 'WALLBOARD_SYNC_SID is not set (the live agents view lives in the board service)' };
  if (!instance) {
    const tw = require(Runtime.getFunctions()['common/client'].path);
    const { callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
    const mod = agentsLiveModule(context);
    const al = new Proxy(
      {},
      {
        get:
          (_, name) =>
          (...args) =>
            callWasm(mod, (wasm, state) => state[name](...args)),
      },
    );
    instance = createAgentsLive({
      al,
      client: tw.twilioClient(context),
      workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
      boardSid,
      parkingSid: context.SYNC_SERVICE_SID ? String(context.SYNC_SERVICE_SID) : null,
      retry: (fn) => tw.withRetry(context, fn),
    });
  }
  return { writer: instance };
}

/** `handle(event)` within `ms`; past it, says so (the write goes on in this container). */
async function bounded(writer, event, ms) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve({ error: `not finished after ${ms / 1000} s (Sync write budget); it goes on in this container` }), ms)));
  const answer = await Promise.race([writer.handle(event), late]);
  clearTimeout(timer);
  return answer;
}

async function agentsLiveTick(context, event) {
  try {
    const { writer, off } = writerOf(context);
    if (off) return { off };
    const { request, ...fields } = event || {};
    return await bounded(writer, fields, DEADLINE_MS);
  } catch (err) {
    return { error: describe(err) };
  }
}

/**
 * A worker's unheard voicemails, counted by the voicemail functions after a voicemail is stored,
 * marked heard or deleted, onto their record through the same writer (pacing, coalescing,
 * If-Match). The crate applies it to an agent already on the board only, and a newer count wins.
 * Never throws; answers within `ms` (2 s: the voicemail's own answer must not wait on the board).
 */
async function agentsLiveUnheard(context, workerSid, unheard, atMs = Date.now(), ms = 2000) {
  try {
    const { writer, off } = writerOf(context);
    if (off) return { off };
    return await bounded(writer, { EventType: 'voicemail.unheard', WorkerSid: workerSid, EventDateMs: atMs, VoicemailUnheard: unheard }, ms);
  } catch (err) {
    return { error: describe(err) };
  }
}

module.exports = { agentsLiveTick, agentsLiveUnheard, createAgentsLive, agentsLiveModule, boardSidOf };
