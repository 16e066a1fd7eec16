// The I/O of realtimestats-updateQueueStatistics: the queue-stats wasm module decides (plan,
// record, change, SLA); this file only performs the TaskRouter reads and Sync writes it asks for.
//
//   const { createUpdater } = require(Runtime.getFunctions()['common/queue-stats'].path);
//   const updater = createUpdater({ qs, client, workspaceSid, syncServiceSid, retry, now });
//   const summary = await updater.handle(event);   // {plan, taskrouterCalls, syncWrites, skipped, errors}
//
// Everything is injected (the wasm instance, the `twilio` client, the retry policy and the clock),
// so the benchmark drives this same code with a simulated clock. It requires nothing from Runtime.
//
// One updater lives per warm container. It keeps the last record written per queue (saving a Sync
// read per event), and it runs at most one refresh per queue at a time: an event arriving while its
// queue is being refreshed joins the next refresh (channels merged), which fetches fresh figures
// after the running one has written. Records never go backwards and bursts cost no more calls.
const MAP = 'queueStats';
const INDEX_MAP = 'queueStats.index';
// Sync takes at most 20 writes/s per object (a map's items count against the map). Writes to one
// object are paced below that, with headroom for other containers, instead of meeting 429s.
const WRITES_PER_SECOND = 18;
// TaskRouter waits 15 s for an answer and a Function may run 10 s: answer by then even when a
// record is still waiting for write budget (it is written when budget frees up, if the container lives).
const DEADLINE_MS = 8000;

const notFound = (err) => err && err.status === 404;
const duplicate = (err) => err && (err.code === 54208 || err.code === 54301 || err.status === 409);
const describe = (err) => (err && err.message ? `${err.message}${err.code ? ` (${err.code})` : ''}` : String(err));

const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Per Sync object, at most `perSecond` writes in any second. A record submitted for a key that is
 * already waiting replaces the waiting one (the newest record is the only one worth writing) and
 * keeps its place in line; every submitter of that key learns the outcome of the write that
 * carried its record or a newer one.
 */
function createPacer({ now, sleep, perSecond }) {
  const objects = new Map(); // object -> {waiting: Map key -> {write, waiters}, recent: [times], draining}

  async function drain(obj) {
    obj.draining = true;
    while (obj.waiting.size) {
      const t = now();
      obj.recent = obj.recent.filter((x) => t - x < 1000);
      if (obj.recent.length >= perSecond) {
        await sleep(obj.recent[0] + 1000 - t);
        continue;
      }
      const [key, job] = obj.waiting.entries().next().value;
      obj.waiting.delete(key);
      obj.recent.push(t);
      try {
        const value = await job.write();
        job.waiters.forEach((w) => w.resolve(value));
      } catch (err) {
        job.waiters.forEach((w) => w.reject(err));
      }
    }
    obj.draining = false;
  }

  return function submit(object, key, write) {
    if (!objects.has(object)) objects.set(object, { waiting: new Map(), recent: [], draining: false });
    const obj = objects.get(object);
    return new Promise((resolve, reject) => {
      const job = obj.waiting.get(key);
      if (job) {
        job.write = write;
        job.waiters.push({ resolve, reject });
      } else {
        obj.waiting.set(key, { write, waiters: [{ resolve, reject }] });
      }
      if (!obj.draining) drain(obj);
    });
  };
}

function createUpdater({ qs, client, workspaceSid, syncServiceSid, retry = (fn) => fn(), now = Date.now, sleep = realSleep, log = () => {} }) {
  const paced = createPacer({ now, sleep, perSecond: WRITES_PER_SECOND });
  const layout = qs.layout();
  const records = new Map(); // queue SID -> last record read or written
  const running = new Map(); // queue SID -> {promise, next: {channels, friendlyName, create, waiters} | null}
  const workspace = () => client.taskrouter.v1.workspaces(workspaceSid);
  const sync = () => client.sync.v1.services(syncServiceSid);

  function counters() {
    return { taskrouterCalls: 0, syncWrites: 0, syncReads: 0, skipped: 0, errors: [] };
  }

  async function tr(stats, fn) {
    stats.taskrouterCalls += 1;
    return retry(fn);
  }

  async function write(stats, fn) {
    stats.syncWrites += 1;
    return retry(fn);
  }

  async function previousRecord(stats, sid) {
    if (records.has(sid)) return records.get(sid);
    stats.syncReads += 1;
    try {
      const found =
        layout === 'documents'
          ? await retry(() => sync().documents(qs.documentName(sid)).fetch())
          : await retry(() => sync().syncMaps(MAP).syncMapItems(sid).fetch());
      records.set(sid, found.data);
      return found.data;
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  /** Writes a record; creates the map, the item or the document (and its index entry) on first use. */
  function store(stats, sid, record) {
    const object = layout === 'documents' ? qs.documentName(sid) : MAP;
    return paced(object, sid, () => storeNow(stats, sid, record));
  }

  async function storeNow(stats, sid, record) {
    if (layout === 'documents') {
      const name = qs.documentName(sid);
      try {
        await write(stats, () => sync().documents(name).update({ data: record }));
      } catch (err) {
        if (!notFound(err)) throw err;
        try {
          await write(stats, () => sync().documents.create({ uniqueName: name, data: record }));
        } catch (err2) {
          if (!duplicate(err2)) throw err2;
          await write(stats, () => sync().documents(name).update({ data: record }));
        }
        await storeIndex(stats, sid, record.friendlyName);
      }
    } else {
      await upsertItem(stats, MAP, sid, record);
    }
    records.set(sid, record);
  }

  async function upsertItem(stats, map, key, data) {
    try {
      return await write(stats, () => sync().syncMaps(map).syncMapItems(key).update({ data }));
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    try {
      return await write(stats, () => sync().syncMaps(map).syncMapItems.create({ key, data }));
    } catch (err) {
      if (duplicate(err)) return write(stats, () => sync().syncMaps(map).syncMapItems(key).update({ data }));
      if (!notFound(err)) throw err;
    }
    // The map itself is missing: create it (another container may just have) and retry once.
    try {
      await write(stats, () => sync().syncMaps.create({ uniqueName: map }));
    } catch (err) {
      if (!duplicate(err)) throw err;
    }
    return write(stats, () => sync().syncMaps(map).syncMapItems.create({ key, data }));
  }

  function storeIndex(stats, sid, friendlyName) {
    return paced(INDEX_MAP, sid, () => upsertItem(stats, INDEX_MAP, sid, qs.indexEntry(sid, friendlyName || sid)));
  }

  async function remove(stats, sid) {
    records.delete(sid);
    const gone = async (fn) => {
      try {
        await write(stats, fn);
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    };
    if (layout === 'documents') {
      await gone(() => sync().documents(qs.documentName(sid)).remove());
      await gone(() => sync().syncMaps(INDEX_MAP).syncMapItems(sid).remove());
    } else {
      await gone(() => sync().syncMaps(MAP).syncMapItems(sid).remove());
    }
  }

  async function refreshQueue(stats, sid, { channels, friendlyName, create }) {
    const previous = await previousRecord(stats, sid);
    let name = friendlyName || (previous && previous.friendlyName);
    if (!name) {
      try {
        name = (await tr(stats, () => workspace().taskQueues(sid).fetch())).friendlyName;
      } catch (err) {
        stats.errors.push(`TaskQueue ${sid}: ${describe(err)}`);
      }
    }
    const params = qs.statisticsParams(now());
    const fetched = await Promise.all(
      channels.map((channel) =>
        tr(stats, () =>
          workspace()
            .taskQueues(sid)
            .statistics()
            .fetch({
              taskChannel: channel === 'all' ? undefined : channel,
              startDate: new Date(params.startDate),
              splitByWaitTime: params.splitByWaitTime,
            }),
        ).then(
          (response) => ({ channel, response: response.toJSON() }),
          (err) => ({ channel, error: describe(err) }),
        ),
      ),
    );
    const built = qs.build({ queue: { sid, friendlyName: name }, previous, fetched }, now());
    stats.errors.push(...built.errors);
    if (!built.changed) {
      stats.skipped += 1;
      return;
    }
    await store(stats, sid, built.record);
    if (create && layout === 'documents' && previous) await storeIndex(stats, sid, built.record.friendlyName);
  }

  /** Runs refreshes of one queue one at a time; an event arriving meanwhile joins the next one. */
  function scheduleRefresh(stats, sid, work) {
    const slot = running.get(sid);
    if (slot) {
      if (!slot.next) slot.next = { channels: new Set(), friendlyName: null, create: false, waiters: [] };
      work.channels.forEach((c) => slot.next.channels.add(c));
      slot.next.friendlyName = work.friendlyName || slot.next.friendlyName;
      slot.next.create = slot.next.create || work.create;
      return new Promise((resolve) => slot.next.waiters.push({ stats, resolve }));
    }
    const run = async (job, waiters) => {
      try {
        await refreshQueue(stats, sid, job);
      } catch (err) {
        stats.errors.push(`${sid}: ${describe(err)}`);
      }
      waiters.forEach((w) => w.resolve());
      const current = running.get(sid);
      const next = current && current.next;
      if (next) {
        current.next = null;
        // The joined events' calls are counted on the first of them.
        const joinedStats = next.waiters.length ? next.waiters[0].stats : stats;
        stats = joinedStats;
        await run({ channels: [...next.channels], friendlyName: next.friendlyName, create: next.create }, next.waiters);
      } else {
        running.delete(sid);
      }
    };
    const entry = { next: null };
    running.set(sid, entry);
    return new Promise((resolve) => {
      run(work, [{ stats, resolve }]);
    });
  }

  async function refreshWorkers(stats, workerSid) {
    const queues = await tr(stats, () => workspace().taskQueues.list(workerSid ? { workerSid } : {}));
    const known = queues.map((q) => ({ sid: q.sid, friendlyName: q.friendlyName }));
    for (const batch of qs.batches(known.map((q) => q.sid))) {
      let response;
      try {
        response = await tr(stats, () => workspace().taskQueues.bulkRealTimeStatistics.create(batch));
      } catch (err) {
        stats.errors.push(`bulk statistics: ${describe(err)}`);
        continue;
      }
      const previous = {};
      for (const sid of batch) previous[sid] = await previousRecord(stats, sid);
      const built = qs.applyBulk({ queues: known, previous, response: response.toJSON() }, now());
      for (const b of built) {
        // A queue that is being refreshed gets fresher figures from that refresh.
        if (!b.changed || running.has(b.key)) {
          stats.skipped += 1;
          continue;
        }
        try {
          await store(stats, b.key, b.record);
        } catch (err) {
          stats.errors.push(`${b.key}: ${describe(err)}`);
        }
      }
    }
  }

  async function handle(event) {
    const stats = counters();
    const plan = qs.plan(event);
    const work = async () => {
      switch (plan.action) {
        case 'refresh':
        case 'create':
          await scheduleRefresh(stats, plan.queueSid, { channels: plan.channels, friendlyName: plan.friendlyName, create: plan.action === 'create' });
          break;
        case 'delete':
          await remove(stats, plan.queueSid);
          break;
        case 'refreshWorkers':
          await refreshWorkers(stats, plan.workerSid);
          break;
        default:
          break;
      }
    };
    let late = false;
    const settled = work().then(
      () => stats.errors.slice(),
      (err) => (stats.errors.push(describe(err)), stats.errors.slice()),
    );
    await Promise.race([settled, sleep(DEADLINE_MS).then(() => (late = true))]);
    const summary = { plan, ...stats, errors: stats.errors.slice() };
    if (late) summary.errors.push(`not finished after ${DEADLINE_MS / 1000} s: Sync write budget exhausted (see docs/queue-stats.md)`);
    log(plan, summary);
    // Not part of the answer: resolves with the errors once the work is really done (the benchmark
    // measures staleness with it).
    Object.defineProperty(summary, 'settled', { value: settled, enumerable: false });
    return summary;
  }

  return { handle, layout, records };
}

module.exports = { createUpdater };
