// The I/O of queue history: the history wasm module decides (query, hours, items, series); this
// file reads and creates Sync items and fetches TaskRouter's statistics and events it asks for.
//
//   const { createHistory } = require(Runtime.getFunctions()['common/history'].path);
//   const history = createHistory({ h, client, workspaceSid, syncServiceSid, retry, now, timeLeft });
//   await history.series(params)     // GET /queue-history: stored hours, missing ones backfilled within the time left
//   await history.tick()             // the event callback's hook: closes the last hour, a few queues per call
//   await history.handleTimes(sids)  // staffing: measured average handle time per queue over the last 7 days ([] = all)
//
// Everything is injected (wasm proxy, `twilio` client, retry, clock, time budget), so the
// benchmark and the seeding script drive this same code. It requires nothing from Runtime.
// Sync's write budget per object shrinks with the payload (h.writeCost: 20 writes/s up to 1 KiB,
// 2/s from 10 KiB). Writes to one map are paced to 80 % of it, headroom for another container.
const BUDGET_SHARE = 0.8;
const CONCURRENCY = 8; // TaskRouter requests in flight while closing hours
const QUEUES_PER_TICK = 4; // queues fetched per event callback: the per-event cost stays bounded
const SETTLE_MS = 60000; // an hour is closed one minute after it ends, when TaskRouter has every event

const notFound = (err) => err && (err.status === 404 || err.code === 20404);
const duplicate = (err) => err && (err.code === 54208 || err.code === 54301 || err.status === 409);
const plain = (x) => JSON.parse(JSON.stringify(x && typeof x.toJSON === 'function' ? x.toJSON() : x));
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `jobs` (functions) with at most `n` in flight, stopping new ones once `stop()` says so. */
async function pool(jobs, n, stop = () => false) {
  const results = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !stop()) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return results;
}

function createHistory({ h, client, workspaceSid, syncServiceSid, retry = (fn) => fn(), now = Date.now, sleep = realSleep, timeLeft = () => Infinity }) {
  const ws = () => client.taskrouter.v1.workspaces(workspaceSid);
  const items = (map) => client.sync.v1.services(syncServiceSid).syncMaps(map).syncMapItems;
  const counts = { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 };
  const tr = (fn) => ((counts.taskrouterCalls += 1), retry(fn));
  const writes = new Map(); // map -> [{at, cost}] of the last second (pacing)
  let pending = null; // the hour the event hook is closing: {start, queues, done: Map, events}
  let closedUpTo = null; // latest hour known to be stored (by this container)

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

  /** Stored items of `map` from `from` to `to` (keys, inclusive), as their data. */
  async function readRange(map, from, to) {
    return (await readItems(map, from, to)).map((item) => item.data);
  }

  async function readItems(map, from, to) {
    const out = [];
    if (!from) return out;
    try {
      counts.syncReads += 1;
      let page = await retry(() => items(map).page({ from, order: 'asc', pageSize: 100 }) /* Sync's maximum */);
      for (;;) {
        let past = false;
        for (const item of page.instances) {
          if (item.key > to) past = true;
          else out.push({ key: item.key, data: item.data });
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

  /** Creates an item once; an existing one wins (a closed hour is immutable). */
  async function createOnce({ map, key, data, cost }) {
    try {
      await paced(map, cost, () => items(map).create({ key, data }));
    } catch (err) {
      if (duplicate(err)) return;
      if (!notFound(err)) throw err;
      try {
        counts.syncWrites += 1;
        await retry(() => client.sync.v1.services(syncServiceSid).syncMaps.create({ uniqueName: map }));
      } catch (err2) {
        if (!duplicate(err2)) throw err2;
      }
      try {
        await paced(map, cost, () => items(map).create({ key, data }));
      } catch (err3) {
        if (!duplicate(err3)) throw err3;
      }
    }
  }

  async function listQueues() {
    return (await tr(() => ws().taskQueues.list({ pageSize: 1000 }))).map((q) => ({ sid: q.sid, friendlyName: q.friendlyName }));
  }

  /** TaskRouter's events of one type in [from, to]. */
  async function events(eventType, from, to) {
    const list = await tr(() => ws().events.list({ eventType, startDate: new Date(from), endDate: new Date(to), pageSize: 1000 }));
    return list.map(plain);
  }

  /** One queue's TaskRouter figures for the hour `p` (hourParams). */
  async function fetchQueue(q, p) {
    const window = { startDate: new Date(p.startDate), endDate: new Date(p.endDate) };
    const cumulative = {};
    await Promise.all(
      p.channels.map(async (channel) => {
        const stats = await tr(() =>
          ws().taskQueues(q.sid).cumulativeStatistics().fetch({ ...window, splitByWaitTime: p.splitByWaitTime, taskChannel: channel === 'all' ? undefined : channel }),
        );
        cumulative[channel] = plain(stats);
      }),
    );
    const workers = plain(await tr(() => ws().workers.cumulativeStatistics().fetch({ ...window, taskQueueSid: q.sid })));
    return { sid: q.sid, friendlyName: q.friendlyName, cumulative, workers };
  }

  async function hourEvents(p) {
    const [accepted, completed] = await Promise.all([events('reservation.accepted', p.eventsFrom, p.endDate), events('task.completed', p.startDate, p.endDate)]);
    return accepted.concat(completed);
  }

  /** Writes a closed hour's items and prunes the hour that left retention. */
  async function writeHour(start, queues, evs) {
    const p = h.hourParams(start);
    // Channels are separate maps with separate budgets: written side by side.
    const byMap = new Map();
    for (const item of h.hourItems(start, { queues, events: evs })) byMap.set(item.map, [...(byMap.get(item.map) || []), item]);
    await Promise.all([...byMap.values()].map(async (list) => {
      for (const item of list) await createOnce(item);
    }));
    for (const range of p.prune) {
      for (const { key } of await readItems(range.map, range.from, range.to)) {
        try {
          await paced(range.map, h.writeCost(0), () => items(range.map)(key).remove());
        } catch (err) {
          if (!notFound(err)) throw err;
        }
      }
    }
  }

  /** Fetches and stores a whole closed hour (backfill). */
  async function closeHour(start, queues) {
    const p = h.hourParams(start);
    const [evs, fetched] = await Promise.all([hourEvents(p), pool(queues.map((q) => () => fetchQueue(q, p)), CONCURRENCY)]);
    await writeHour(start, fetched, evs);
  }

  /** GET /queue-history: the series, backfilling missing hours TaskRouter still has while time is left. */
  async function series(params, { backfill = true } = {}) {
    const query = h.query(params, now());
    let answer = h.aggregate(query, JSON.stringify(await readRange(query.map, query.listFrom, query.listTo)));
    const missing = backfill ? answer.missing.filter((hour) => hour >= query.backfillFrom) : [];
    if (missing.length) {
      const queues = await listQueues();
      // Newest first: the hours a supervisor looks at first.
      const jobs = missing.reverse().map((hour) => () => closeHour(hour, queues));
      await pool(jobs, Math.max(1, Math.floor(CONCURRENCY / Math.max(1, queues.length))), () => timeLeft() < 3000);
      answer = h.aggregate(query, JSON.stringify(await readRange(query.map, query.listFrom, query.listTo)));
    }
    return answer;
  }

  /**
   * The event callback's hook. Costs nothing until the last hour has been over for a minute; then
   * it checks once whether the hour is stored and, if not, fetches up to QUEUES_PER_TICK queues'
   * figures per call and writes the hour when every queue is in. A recycled container leaves the
   * hour to the next event or to /queue-history's backfill.
   */
  async function tick() {
    const before = { ...counts };
    const t = now();
    const start = h.lastClosedHour(t - SETTLE_MS);
    if (closedUpTo === start) return delta(before);
    if (!pending || pending.start !== start) {
      pending = { start, queues: null, done: [], events: null, busy: false };
      const { stored } = h.hourParams(start);
      if ((await readItems(stored.map, stored.from, stored.to)).length) {
        closedUpTo = start;
        pending = null;
        return delta(before);
      }
    }
    const job = pending;
    if (job.busy) return delta(before);
    job.busy = true;
    try {
      const p = h.hourParams(job.start);
      if (!job.queues) job.queues = await listQueues();
      const next = job.queues.slice(job.done.length, job.done.length + QUEUES_PER_TICK);
      job.done.push(...(await pool(next.map((q) => () => fetchQueue(q, p)), CONCURRENCY)));
      if (job.done.length >= job.queues.length) {
        if (!job.events) job.events = await hourEvents(p);
        await writeHour(job.start, job.done, job.events);
        closedUpTo = job.start;
        pending = null;
      }
    } finally {
      job.busy = false;
    }
    return delta(before);
  }

  /**
   * Measured handle time for staffing (Erlang C): per queue, the average accepted-to-completed
   * time over the last 7 days' stored hours (no backfill: it answers at once),
   * `{[sid]: {avgHandle (s) | null, handled, from, to}}`.
   */
  async function handleTimes(sids = []) {
    const params = { range: 'last7', by: 'queue', ...(sids.length ? { queue: sids.join(',') } : {}) };
    const answer = await series(params, { backfill: false });
    const keys = sids.length ? sids : answer.series.map((r) => r.key);
    return Object.fromEntries(keys.map((sid) => {
      const row = answer.series.find((r) => r.key === sid);
      return [sid, { avgHandle: row ? row.avgHandle : null, handled: row ? row.handled : 0, from: answer.from, to: answer.to }];
    }));
  }

  function delta(before) {
    return Object.fromEntries(Object.keys(counts).map((k) => [k, counts[k] - before[k]]));
  }

  return { series, tick, closeHour, handleTimes, listQueues, readRange, counts };
}

module.exports = { createHistory };
