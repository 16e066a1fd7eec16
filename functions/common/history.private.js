// The I/O of queue history: the history wasm module decides (query, hours, items, series); this
// file reads and creates Sync items and fetches TaskRouter's statistics and events it asks for.
//
//   const { createHistory } = require(Runtime.getFunctions()['common/history'].path);
//   const history = createHistory({ h, client, workspaceSid, syncServiceSid, retry, now, timeLeft });
//   await history.series(params, {listQueues})  // GET /queue-history: stored hours, missing ones backfilled within the time left (params.backfill=false: stored only)
//   await history.tick()             // the event callback's hook: closes the last hour, a few queues per call
//   await history.handleTimes(sids)  // staffing: measured average handle time per queue over the last 7 days ([] = all)
//   await history.closeHour(startIso, queues, history.session(fromIso))  // fetch and store one hour (no claim; scripts)
//
// Everything is injected (wasm proxy, `twilio` client, retry, clock, time budget), so the
// benchmark and the seeding script drive this same code. It needs nothing from Runtime.
//
// One invocation (a series() or tick() call) never sends TaskRouter the same request twice: its
// requests go through a per-invocation memo (`session`). Each missing hour is backfilled once:
// within a container concurrent requests share the work in flight (`inflight`), across containers
// a claim item in Sync decides who closes an hour (rules in the history crate's `claim` module).
// A failure for one hour leaves that hour in `missing` with its reason; the others are stored.
// Sync's write budget per object shrinks with the payload (h.writeCost: 20 writes/s up to 1 KiB,
// 2/s from 10 KiB). Writes to one map are paced to 80 % of it, headroom for another container.
const BUDGET_SHARE = 0.8;
const CONCURRENCY = 8; // TaskRouter requests in flight while closing hours
const QUEUES_PER_TICK = 4; // queues fetched per event callback: the per-event cost stays bounded
const SETTLE_MS = 60000; // an hour is closed one minute after it ends, when TaskRouter has every event

const notFound = (err) => err && (err.status === 404 || err.code === 20404);
const duplicate = (err) => err && (err.code === 54208 || err.code === 54301 || err.status === 409);
const conflict = (err) => err && (err.status === 412 || err.code === 54103 || notFound(err));
const plain = (x) => JSON.parse(JSON.stringify(x && typeof x.toJSON === 'function' ? x.toJSON() : x));
// Through Runtime in the functions; by path where scripts and benchmarks load this file without it.
const { createPacer } = require(typeof Runtime !== 'undefined' ? Runtime.getFunctions()['common/sync-pacer'].path : require('path').join(__dirname, 'sync-pacer.private.js'));
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
  const pace = createPacer({ now, sleep, share: BUDGET_SHARE });
  let pending = null; // the hour the event hook is closing: {start, queues, done: Map, events}
  let closedUpTo = null; // latest hour known to be stored (by this container)
  const owner = `${require('crypto').randomUUID()}`; // this container, in claims
  const inflight = new Map(); // hour -> promise of its closing by a request of this container

  /**
   * One invocation's TaskRouter requests: `once(key, fn)` sends a request once and shares its
   * answer (or failure); `at` is the invocation's instant (the end of the activity listing).
   */
  function session(from) {
    const memo = new Map();
    return {
      at: now(),
      from,
      activity: { events: [], oldest: Infinity, page: null, done: false, chain: Promise.resolve() },
      once(key, fn) {
        if (!memo.has(key)) {
          const p = tr(fn);
          p.catch(() => {});
          memo.set(key, p);
        }
        return memo.get(key);
      },
    };
  }

  /** Runs the write `fn` to `map` once the map's budget of the last second has room for `cost`. */
  async function paced(map, cost, fn) {
    await pace(map, cost);
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
      // Sync lists at most 100 items a page.
      let page = await retry(() => items(map).page({ from, order: 'asc', pageSize: 100 }));
      for (;;) {
        let past = false;
        for (const item of page.instances) {
          if (item.key > to) past = true;
          else out.push({ key: item.key, data: item.data, revision: item.revision });
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

  /** Creates an item (and its map when missing); a duplicate key throws. Returns the item. */
  async function createItem({ map, key, data, cost, itemTtl }) {
    const create = () => paced(map, cost, () => items(map).create({ key, data, ...(itemTtl ? { itemTtl } : {}) }));
    try {
      return await create();
    } catch (err) {
      if (!notFound(err)) throw err;
      try {
        counts.syncWrites += 1;
        await retry(() => client.sync.v1.services(syncServiceSid).syncMaps.create({ uniqueName: map }));
      } catch (err2) {
        if (!duplicate(err2)) throw err2;
      }
      return create();
    }
  }

  /** Creates an item once; an existing one wins (a closed hour is immutable). */
  async function createOnce(item) {
    try {
      await createItem(item);
    } catch (err) {
      if (!duplicate(err)) throw err;
    }
  }

  function listQueues(s = session()) {
    return s.once('taskQueues', () => ws().taskQueues.list({ pageSize: 1000 })).then((list) => list.map((q) => ({ sid: q.sid, friendlyName: q.friendlyName })));
  }

  /** TaskRouter's events of one type in [from, to]. */
  async function events(s, eventType, from, to) {
    const list = await s.once(`events ${eventType} ${from} ${to}`, () => ws().events.list({ eventType, startDate: new Date(from), endDate: new Date(to), pageSize: 1000 }));
    return list.map(plain);
  }

  /**
   * `worker.activity.update` events from the session's `from` until its instant, read page by
   * page (TaskRouter lists newest first) only as far back as `ms`: one listing per invocation
   * however many hours it closes.
   */
  function activitySince(s, ms) {
    const a = s.activity;
    const more = async () => {
      while (!a.done && a.oldest > ms) {
        counts.taskrouterCalls += 1;
        const page = a.page
          ? await retry(() => a.page.nextPage())
          : await retry(() => ws().events.page({ eventType: 'worker.activity.update', startDate: new Date(s.from), endDate: new Date(s.at), pageSize: 1000 }));
        const list = (page && page.instances) || [];
        for (const e of list.map(plain)) {
          a.events.push(e);
          const at = Number(e.eventDateMs) || Date.parse(e.eventDate);
          if (Number.isFinite(at)) a.oldest = Math.min(a.oldest, at);
        }
        a.page = page;
        if (!page || !page.nextPageUrl || !list.length) a.done = true;
      }
      return a.events;
    };
    a.chain = a.chain.then(more, more);
    return a.chain;
  }

  /** Every worker of the workspace with its current activity, once per invocation. */
  async function currentWorkers(s) {
    const list = await s.once('workers', () => ws().workers.list({ pageSize: 1000 }));
    return list.map((w) => ({ sid: w.sid, activityName: w.activityName }));
  }

  /** A queue's eligible workers, once per invocation. */
  async function members(s, queueSid) {
    const list = await s.once(`members ${queueSid}`, () => ws().workers.list({ taskQueueSid: queueSid, pageSize: 1000 }));
    return list.map((w) => w.sid);
  }

  /** One queue's TaskRouter figures for the hour `p` (hourParams). */
  async function fetchQueue(s, q, p) {
    const window = { startDate: new Date(p.startDate), endDate: new Date(p.endDate) };
    const cumulative = {};
    const [sids] = await Promise.all([
      members(s, q.sid),
      ...p.channels.map(async (channel) => {
        const stats = await s.once(`cumulative ${q.sid} ${p.startDate} ${p.endDate} ${channel}`, () =>
          ws()
            .taskQueues(q.sid)
            .cumulativeStatistics()
            .fetch({ ...window, splitByWaitTime: p.splitByWaitTime, taskChannel: channel === 'all' ? undefined : channel }),
        );
        cumulative[channel] = plain(stats);
      }),
    ]);
    return { sid: q.sid, friendlyName: q.friendlyName, cumulative, members: sids };
  }

  async function hourEvents(s, p) {
    const [accepted, completed] = await Promise.all([events(s, 'reservation.accepted', p.eventsFrom, p.endDate), events(s, 'task.completed', p.startDate, p.endDate)]);
    return accepted.concat(completed);
  }

  /** The agents' inputs of the hour `p`: activity changes since its start and the workers now. */
  async function agentInputs(s, p) {
    const [activity, workers] = await Promise.all([activitySince(s, Date.parse(p.startDate)), currentWorkers(s)]);
    return { activity, workers };
  }

  /** Writes a closed hour's items and prunes the hour that left retention. */
  async function writeHour(start, queues, evs, agents) {
    const p = h.hourParams(start);
    // Channels are separate maps with separate budgets: written side by side.
    const byMap = new Map();
    for (const item of h.hourItems(start, { queues, events: evs, ...agents })) byMap.set(item.map, [...(byMap.get(item.map) || []), item]);
    await Promise.all(
      [...byMap.values()].map(async (list) => {
        for (const item of list) await createOnce(item);
      }),
    );
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

  /** Fetches and stores a whole closed hour (no claim: see backfill). */
  async function closeHour(start, queues, s = session(start)) {
    const p = h.hourParams(start);
    const [evs, fetched, agents] = await Promise.all([
      hourEvents(s, p),
      pool(
        queues.map((q) => () => fetchQueue(s, q, p)),
        CONCURRENCY,
      ),
      agentInputs(s, p),
    ]);
    await writeHour(start, fetched, evs, agents);
  }

  async function isStored(start) {
    const { stored } = h.hourParams(start);
    return (await readItems(stored.map, stored.from, stored.to)).length > 0;
  }

  /**
   * Claims `step.hour` for this container (create, or If-Match update of a stale or own claim).
   * True when won; false when another holder has it.
   */
  async function claim(step, revision, kind) {
    const map = h.claimsMap();
    const data = h.newClaim(step.hour, owner, kind, now());
    const itemTtl = h.claimTtl();
    const cost = h.writeCost(JSON.stringify(data).length);
    let rev = revision;
    if (step.action === 'create') {
      try {
        await createItem({ map, key: step.key, data, cost, itemTtl });
        return true;
      } catch (err) {
        if (!duplicate(err)) throw err;
      }
      // Claimed in the meantime: look at it.
      let found = null;
      try {
        counts.syncReads += 1;
        found = await retry(() => items(map)(step.key).fetch());
      } catch (err) {
        if (!notFound(err)) throw err;
      }
      const state = h.claimState(found ? found.data : null, owner, now());
      if (state.state === 'held' || !found) return false;
      rev = found.revision;
    }
    try {
      await paced(map, cost, () => items(map)(step.key).update({ data, itemTtl, ifMatch: rev }));
      return true;
    } catch (err) {
      if (conflict(err)) return false;
      throw err;
    }
  }

  /** What a failure means for an hour's entry in `missing`. */
  function noteOf(err) {
    if (err && err.name === 'DeadlineError') return { code: 'pending', reason: 'backfill pending: the time budget ran out; ask again' };
    const what = err && err.status ? `${err.status}${err.code ? ` (${err.code})` : ''}: ${err.message}` : (err && err.message) || String(err);
    return { code: 'failed', reason: `TaskRouter or Sync failed while backfilling: ${what}` };
  }

  /**
   * Backfills `hours` once: newest first, each claimed first; hours held by another container or
   * not reached within the time budget stay pending. Returns the notes for `missing`.
   */
  async function backfill(hours, listed = null) {
    const notes = {};
    if (!hours.length) return notes;
    const sorted = hours.slice().sort();
    const s = session(sorted[0]);
    let queues;
    try {
      queues = listed || (await listQueues(s));
    } catch (err) {
      for (const hour of hours) notes[hour] = noteOf(err);
      return notes;
    }
    const map = h.claimsMap();
    const revisions = new Map();
    const latest = new Map(); // hour -> its step, from the latest reading of the claims
    const started = new Set();
    const plan = async () => {
      const left = sorted.filter((hour) => !started.has(hour));
      if (!left.length) return [];
      const claims = await readItems(map, h.claimKey(left[0]), `${h.claimKey(left[left.length - 1])}~`);
      for (const c of claims) revisions.set(c.key, c.revision);
      const steps = h.claimPlan(left, Object.fromEntries(claims.map((c) => [c.key, c.data])), owner, now());
      for (const step of steps) latest.set(step.hour, step);
      return steps;
    };
    const steps = await plan();
    let refresh = null; // one re-reading of the claims at a time, after a claim was lost
    const held = { code: 'pending', reason: 'backfill pending: another request is fetching this hour; ask again' };
    const jobs = steps.map(({ hour }) => async () => {
      if (!h.mayStart(timeLeft())) return;
      if (refresh) await refresh;
      const step = latest.get(hour);
      started.add(hour);
      if (inflight.has(step.hour)) {
        const note = await inflight.get(step.hour);
        if (note) notes[step.hour] = note;
        return;
      }
      if (step.action === 'skip') {
        notes[step.hour] = held;
        return;
      }
      const work = (async () => {
        let won = false;
        try {
          won = await claim(step, revisions.get(step.key), 'backfill');
          if (!won) {
            // Others are working through the same hours: read the claims again once, so the
            // hours they hold are skipped without a refused create each.
            if (!refresh)
              refresh = plan()
                .catch(() => [])
                .finally(() => (refresh = null));
            return held;
          }
          // A stale claim may belong to a request that finished: the stored items say.
          if (step.action === 'update' && (await isStored(step.hour))) return null;
          await closeHour(step.hour, queues, s);
          return null;
        } catch (err) {
          if (won) {
            // Let the next request try again at once.
            try {
              await retry(() => items(map)(step.key).remove());
            } catch {
              /* the lease ends anyway */
            }
          }
          return noteOf(err);
        }
      })();
      inflight.set(step.hour, work);
      try {
        const note = await work;
        if (note) notes[step.hour] = note;
      } finally {
        inflight.delete(step.hour);
      }
    });
    await pool(jobs, Math.max(1, Math.floor(CONCURRENCY / Math.max(1, queues.length))), () => !h.mayStart(timeLeft()));
    return notes;
  }

  /**
   * GET /queue-history: the series from what is stored, backfilling missing hours TaskRouter still
   * has while time is left; `missing` names every hour still without figures and why.
   */
  async function series(params, { backfill: doBackfill = true, listQueues: withQueues = false } = {}) {
    const query = h.query(params, now());
    // `backfill=false` (the view's first requests): the stored hours at once, the rest `pending`,
    // with TaskRouter's queues now (one listing), so the view's queue list is complete before any
    // hour of a queue is stored. Otherwise the stored names, and the queues a backfill lists.
    let known = withQueues && !query.backfill ? await listQueues(session()).catch(() => null) : null;
    let answer = h.aggregate(query, JSON.stringify(await readRange(query.map, query.listFrom, query.listTo)), null, known || []);
    const todo = doBackfill && query.backfill ? answer.missing.filter((m) => m.code === 'pending').map((m) => m.hour) : [];
    if (todo.length) {
      if (withQueues) known = await listQueues(session()).catch(() => null);
      const notes = await backfill(todo, known);
      answer = h.aggregate(query, JSON.stringify(await readRange(query.map, query.listFrom, query.listTo)), notes, known || []);
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
      pending = { start, queues: null, done: [], events: null, busy: false, claimed: false };
      if (await isStored(start)) {
        closedUpTo = start;
        pending = null;
        return delta(before);
      }
    }
    const job = pending;
    if (job.busy) return delta(before);
    job.busy = true;
    try {
      const s = session(job.start);
      if (!job.claimed) {
        // The hook claims the hour too, so a backfill request does not close it a second time.
        const key = h.claimKey(job.start);
        let found = null;
        try {
          counts.syncReads += 1;
          found = await retry(() => items(h.claimsMap())(key).fetch());
        } catch (err) {
          if (!notFound(err)) throw err;
        }
        const state = h.claimState(found ? found.data : null, owner, now()).state;
        const won = state !== 'held' && (await claim({ hour: job.start, key, action: found ? 'update' : 'create' }, found && found.revision, 'hook'));
        if (!won) {
          // Another request closes it.
          closedUpTo = job.start;
          pending = null;
          return delta(before);
        }
        job.claimed = true;
      }
      const p = h.hourParams(job.start);
      if (!job.queues) job.queues = await listQueues(s);
      const next = job.queues.slice(job.done.length, job.done.length + QUEUES_PER_TICK);
      job.done.push(
        ...(await pool(
          next.map((q) => () => fetchQueue(s, q, p)),
          CONCURRENCY,
        )),
      );
      if (job.done.length >= job.queues.length) {
        if (!job.events) job.events = await hourEvents(s, p);
        await writeHour(job.start, job.done, job.events, await agentInputs(s, p));
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
    return Object.fromEntries(
      keys.map((sid) => {
        const row = answer.series.find((r) => r.key === sid);
        return [sid, { avgHandle: row ? row.avgHandle : null, handled: row ? row.handled : 0, from: answer.from, to: answer.to }];
      }),
    );
  }

  function delta(before) {
    return Object.fromEntries(Object.keys(counts).map((k) => [k, counts[k] - before[k]]));
  }

  return { series, tick, closeHour, backfill, session, handleTimes, listQueues: () => listQueues(), readRange, counts, owner };
}

module.exports = { createHistory };
