// Agent history's event callback hook (docs/agent-history.md): the agent-history wasm module
// decides (which record an event goes to, what it adds, which hour to close and what it reads,
// the closed hours and days); this file reads and writes Sync items and lists TaskRouter's
// activities and workers for it. (Not yet on the effects protocol: see docs/effects.md.)
//
//   const { createAgentHistory } = require(Runtime.getFunctions()['common/agent-history'].path);
//   const agents = createAgentHistory({ ah, client, workspaceSid, syncServiceSid, retry, now });
//   await agents.record(fields)              // the event callback's hook: one item read, at most one write
//   await agents.reclose(fields)             // the hook, after a record written: closes the agent's rows of closed hours
//                                            // again when the event changes them (late events)
//   await agents.tick()                      // the hook, after record: closes the last hour(s), a few listings per call;
//                                            // a day's last hour also sums the day (agentDays); prunes past retention
//   await agents.closeHour(startMs)          // closes one hour at once (claimed first)
//   await agents.buildDay(ah.dayJob(date))   // sums one local day into agentDays (its hours all closed)
//
//   agentHistoryHook(context, fields)        // the event callback's one line: never throws; off when
//                                            // AGENT_HISTORY_ENABLED is "false"
//   agentHistoryFor(context)                 // this container's instance
//
// GET /agent-history is not here: it is crates/agent-history's machine (startAgentHistory) on
// common/effects.
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
const CONCURRENCY = 16; // Sync listings in flight for a reclose
const ATTEMPTS = 4; // reads of one item when other writers win (412, a create that lost)
const MAX_CHUNKS = 16;
const ACTIVITIES_TTL_MS = 10 * 60000; // the workspace's activity names, re-listed at most this often
const WORKERS_TTL_MS = 60000; // the directory for a day's teams
const PRUNE_EVERY_MS = 3600000;
const PRUNE_PER_EVENT = 2;
const LISTINGS_PER_TICK = 4; // records listings per event while closing an hour

const notFound = (err) => err && (err.status === 404 || err.code === 20404);
const duplicate = (err) => err && (err.code === 54208 || err.code === 54301 || err.status === 409);
const conflict = (err) => err && (err.status === 412 || err.code === 54103);
// Through Runtime in the functions; by path where scripts and benchmarks load this file without it.
const { createPacer } = require(typeof Runtime !== 'undefined' ? Runtime.getFunctions()['common/sync-pacer'].path : require('path').join(__dirname, 'sync-pacer.private.js'));
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

function createAgentHistory({ ah, client, workspaceSid, syncServiceSid, retry = (fn) => fn(), now = Date.now, sleep = realSleep }) {
  const ws = () => client.taskrouter.v1.workspaces(workspaceSid);
  const sync = () => client.sync.v1.services(syncServiceSid);
  const items = (map) => sync().syncMaps(map).syncMapItems;
  const counts = { taskrouterCalls: 0, syncReads: 0, syncWrites: 0 };
  const pace = createPacer({ now, sleep, share: BUDGET_SHARE });
  const names = {}; // WA… -> friendly name: learned from events, and listed when one is unknown
  let activitiesAt = -Infinity;
  let workers = { at: -Infinity, list: null };
  const prune = { at: -Infinity, queue: [] };

  /** Runs the write `fn` to `map` once the map's budget of the last second has room for `cost`. */
  async function paced(map, cost, fn, tally = counts) {
    await pace(map, cost);
    tally.syncWrites += 1;
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
  async function createItem(map, key, data, cost, itemTtl, tally = counts) {
    const create = () => paced(map, cost, () => items(map).create(itemTtl ? { key, data, itemTtl } : { key, data }), tally);
    try {
      return await create();
    } catch (err) {
      if (!notFound(err)) throw err;
      try {
        tally.syncWrites += 1;
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

  /** The items of one listing ({map, from, to}, keys inclusive): [{key, data, revision}]. */
  async function readItems({ map, from, to }, tally = counts) {
    const out = [];
    try {
      tally.syncReads += 1;
      let page = await retry(() => items(map).page({ from, order: 'asc', pageSize: 100 }));
      for (;;) {
        let past = false;
        for (const item of page.instances) {
          if (item.key > to) past = true;
          else out.push(item);
        }
        if (past || !page.nextPageUrl) break;
        tally.syncReads += 1;
        page = await retry(() => page.nextPage());
        if (!page) break;
      }
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    return out;
  }

  /** The items of one listing, as JSON texts of their data. */
  async function readRange(range, tally = counts) {
    return (await readItems(range, tally)).map((item) => JSON.stringify(item.data));
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

  // Closing hours (the event callback's hook, after the event's record): docs/agent-history.md.
  // `detail`: a built day's agentDayHours items still to write, one per hook call.
  const closing = { latest: undefined, job: null, busy: false, detail: [] };
  const closeCounts = { syncReads: 0, syncWrites: 0 };
  const owner = require('crypto').randomUUID(); // this container, in claims

  async function fetchIn(map, key) {
    closeCounts.syncReads += 1;
    try {
      return await retry(() => items(map)(key).fetch());
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  /** Claims the job's hour for this container (history::claim rules); true when won. */
  async function claimHour(job) {
    const map = ah.claimsMap();
    const found = await fetchIn(map, job.claimKey);
    const state = ah.claimState(found ? found.data : null, owner, now()).state;
    if (state === 'held') return false;
    const data = ah.newClaim(job.start, owner, now());
    const itemTtl = ah.claimTtl();
    closeCounts.syncWrites += 1;
    try {
      if (found) await retry(() => items(map)(job.claimKey).update({ data, itemTtl, ifMatch: found.revision }));
      else await createItem(map, job.claimKey, data, ah.writeCost(JSON.stringify(data).length), itemTtl);
      return true;
    } catch (err) {
      if (conflict(err) || duplicate(err)) return false; // another container claimed it first
      throw err;
    }
  }

  /** Starts closing `job`'s hour: 'stored' (closed already), 'held' (another container's), or 'claimed'. */
  async function begin(job) {
    if (await fetchIn(ah.hoursMap(), job.firstKey)) return 'stored';
    return (await claimHour(job)) ? 'claimed' : 'held';
  }

  /** Reads up to `n` more of the job's records listings. */
  async function readSome(c, n) {
    const next = c.job.listings.slice(c.done, c.done + n);
    for (const texts of await Promise.all(next.map((r) => readRange(r, closeCounts)))) c.texts.push(...texts);
    c.done += next.length;
  }

  /** Writes the hour's items (after every listing was read); answers how many. */
  async function writeHour(c, { detailNow = false } = {}) {
    const previous = await readRange(c.job.previous, closeCounts);
    const made = ah.closeHour(c.job, `[${c.texts.join(',')}]`, `[${previous.join(',')}]`);
    for (const item of made) {
      const cost = ah.writeCost(JSON.stringify(item.data).length);
      try {
        await createItem(item.map, item.key, item.data, cost, undefined, closeCounts);
      } catch (err) {
        if (!duplicate(err)) throw err;
        await paced(item.map, cost, () => items(item.map)(item.key).update({ data: item.data }), closeCounts);
      }
    }
    // The last hour of a local day: the day is summed into agentDays.
    if (c.job.day) await buildDay(c.job.day, closeCounts, { detailNow });
    await pruneClosed(made.length + 2, closeCounts);
    return made.length;
  }

  /**
   * Writes up to `n` of the built days' agentDayHours items still to write (a newer build replaces
   * them), with the TTL the module gives an item (`item.ttl`: an agent's own item expires with the
   * retention).
   */
  async function writeDetail(n, tally) {
    for (const item of closing.detail.splice(0, n)) {
      await paced(item.map, item.cost, () => items(item.map)(item.key).update(item.ttl ? { data: item.data, itemTtl: item.ttl } : { data: item.data }), tally).catch((err) => {
        if (!notFound(err)) throw err;
        return createItem(item.map, item.key, item.data, item.cost, item.ttl, tally);
      });
    }
  }

  /** Queues a day build's agentDayHours items (written now, or one per hook call). */
  async function queueDetail(made, now, tally) {
    const date = made.length ? made[0].data.date : null;
    closing.detail = closing.detail.filter((item) => item.data.date !== date).concat(made);
    if (now) await writeDetail(Infinity, tally);
  }

  /**
   * Sums a local day whose hours are all closed into agentDays: its day items are read first (their
   * revisions), then its hours' items, and the new build is written with If-Match (a create for a
   * new key); another writer first → read both again (up to ATTEMPTS). So the last build to land
   * read the hours after every change before it. Answers the items written (0: not all closed).
   */
  async function buildDay(day, tally, { detailNow = false } = {}) {
    // The teams now (TaskRouter's directory, listed at most once a minute): each team's hour sums
    // are kept with the day. Without the directory the day is built without them.
    const workers = await directory().catch(() => null);
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const existing = await readItems(day.days, tally);
      const hours = await readItems(day.hours, tally);
      const generation = Math.max(0, now()) * 1000 + Math.floor(Math.random() * 1000);
      const built = ah.buildDay(day.date, `[${hours.map((i) => JSON.stringify(i.data)).join(',')}]`, generation, workers);
      if (!built) return 0;
      const made = built.days;
      const revisions = new Map(existing.map((i) => [i.key, i.revision]));
      try {
        for (const item of made) {
          if (revisions.has(item.key)) await paced(item.map, item.cost, () => items(item.map)(item.key).update({ data: item.data, ifMatch: revisions.get(item.key) }), tally);
          else await createItem(item.map, item.key, item.data, item.cost, undefined, tally);
        }
        // The agents' hours of this build (by hour of named agents read them): read only with
        // its generation, so written after the day's items, a few per hook call.
        await queueDetail(built.detail, detailNow, tally);
        return made.length;
      } catch (err) {
        if (!conflict(err) && !duplicate(err) && !notFound(err)) throw err;
      }
    }
    throw new Error(`agent history: day ${day.date} kept changing under ${ATTEMPTS} attempts`);
  }

  /**
   * Deletes closed hours and days past retention (AGENT_HISTORY_RETENTION_DAYS): after each hour
   * closed, the oldest `n` keys of agentHours (more than the hour added) and a few of agentDays,
   * when they are past it. One listing per map and at most `n` deletes per hour closed.
   */
  async function pruneClosed(n, tally) {
    let deleted = 0;
    for (const range of ah.expiredClosed(now())) {
      tally.syncReads += 1;
      let page;
      try {
        page = await retry(() => items(range.map).page({ order: 'asc', pageSize: range.map === ah.daysMap() ? 4 : n }));
      } catch (err) {
        if (notFound(err)) continue;
        throw err;
      }
      for (const item of page.instances) {
        if (item.key > range.to) break;
        try {
          await paced(range.map, ah.writeCost(0), () => items(range.map)(item.key).remove(), tally);
          deleted += 1;
        } catch (err) {
          if (!notFound(err)) throw err;
        }
      }
    }
    return deleted;
  }

  /** The key of the latest agentHours item, learned once per container (one listing). */
  async function learnLatest() {
    if (closing.latest !== undefined) return;
    closeCounts.syncReads += 1;
    try {
      const page = await retry(() => items(ah.hoursMap()).page({ order: 'desc', pageSize: 1 }));
      closing.latest = page.instances.length ? page.instances[0].key : null;
    } catch (err) {
      if (!notFound(err)) throw err;
      closing.latest = null;
    }
  }

  /**
   * After an event's record was written (a new fact): when the event changes closed hours — it
   * is late (its hour was closed), or its activity's span began in a closed hour where no change is
   * recorded — the agent's rows of those hours are closed again from its records (module:
   * recloseStep, reclosePatch), written with If-Match on the revisions read before the records (a
   * change in between → all read again), then the days of those hours are summed again.
   * Duplicates never get here (nothing written). Answers {hours?, patched, days, syncReads, syncWrites}.
   */
  async function reclose(fields) {
    const before = { ...closeCounts };
    const out = { patched: 0, days: 0 };
    await learnLatest();
    let step = ah.recloseStep(fields, names, closing.latest, null);
    if (step.step === 'span') {
      const texts = await readRange(step.listing, closeCounts);
      step = ah.recloseStep(fields, names, closing.latest, `[${texts.join(',')}]`);
    }
    if (step.step !== 'hours') return Object.assign(out, delta(before));
    out.hours = [step.from, step.to];
    const dates = new Set();
    for (let attempt = 0; ; attempt += 1) {
      if (attempt >= ATTEMPTS) throw new Error(`agent history: closed hours from ${step.from} kept changing under ${ATTEMPTS} attempts`);
      const stored = await readItems(step.hours, closeCounts);
      const storedJson = JSON.stringify(stored.map((i) => ({ key: i.key, data: i.data })));
      // The agent's records from the look-back of the first closed hour the event can change.
      const listings = ah.recloseRecords(step, storedJson, now());
      if (!listings.length) break;
      const records = await pool(
        listings.map((r) => () => readRange(r, closeCounts)),
        CONCURRENCY,
      );
      const patches = ah.reclosePatch(step, storedJson, `[${records.flat().join(',')}]`);
      const revisions = new Map(stored.map((i) => [i.key, i.revision]));
      try {
        for (const p of patches) {
          if (revisions.has(p.key)) await paced(p.map, p.cost, () => items(p.map)(p.key).update({ data: p.data, ifMatch: revisions.get(p.key) }), closeCounts);
          else await createItem(p.map, p.key, p.data, p.cost, undefined, closeCounts);
          out.patched += 1;
          if (p.date) dates.add(p.date);
        }
        break;
      } catch (err) {
        if (!conflict(err) && !duplicate(err) && !notFound(err)) throw err;
      }
    }
    for (const date of dates) out.days += await buildDay(ah.dayJob(date), closeCounts);
    return Object.assign(out, delta(before));
  }

  /**
   * Closes the local hour containing `startMs` at once (scripts, tests, a second container):
   * {state: closed|stored|held, items?, syncReads, syncWrites}.
   */
  async function closeHour(startMs) {
    const before = { ...closeCounts };
    const job = ah.closeJob(startMs, now());
    const state = await begin(job);
    const out = { hour: job.start, state };
    if (state === 'claimed') {
      const c = { job, done: 0, texts: [] };
      await readSome(c, Infinity);
      out.items = await writeHour(c, { detailNow: true });
      out.state = 'closed';
    }
    return Object.assign(out, delta(before));
  }

  /**
   * The event callback's hook, after the event's record: closes the hour after the latest closed
   * one (or the last ended hour) a minute after it ends, LISTINGS_PER_TICK records listings per
   * call; one container per hour (a claim in Sync). Answers {hour?, closed?, syncReads,
   * syncWrites} of this call; costs nothing while the last ended hour is closed.
   */
  async function tick() {
    const before = { ...closeCounts };
    const out = await closeStep();
    // A built day's agents' hours still to write: one item per hook call that wrote no hour.
    if (closing.detail.length && out.closed === undefined && !closing.busy) {
      closing.busy = true;
      try {
        await writeDetail(1, closeCounts);
      } finally {
        closing.busy = false;
      }
      out.detailLeft = closing.detail.length;
    }
    return Object.assign(out, delta(before));
  }

  async function closeStep() {
    const before = { ...closeCounts };
    const out = {};
    if (closing.busy) return Object.assign(out, delta(before));
    closing.busy = true;
    try {
      if (!closing.job) {
        await learnLatest();
        const job = ah.nextClose(now(), closing.latest);
        if (!job) return Object.assign(out, delta(before));
        out.hour = job.start;
        if ((await begin(job)) !== 'claimed') {
          // Closed already, or another container closes it.
          closing.latest = job.firstKey;
          return Object.assign(out, delta(before));
        }
        closing.job = { job, done: 0, texts: [] };
      }
      const c = closing.job;
      out.hour = c.job.start;
      await readSome(c, LISTINGS_PER_TICK);
      if (c.done >= c.job.listings.length) {
        out.closed = await writeHour(c);
        closing.latest = c.job.firstKey;
        closing.job = null;
      }
    } catch (err) {
      closing.job = null; // begun again (its claim is this container's) by a later event
      throw err;
    } finally {
      closing.busy = false;
    }
    return Object.assign(out, delta(before));
  }

  function delta(before) {
    return Object.fromEntries(Object.keys(closeCounts).map((k) => [k, closeCounts[k] - before[k]]));
  }

  return { record, reclose, tick, closeHour, buildDay, counts, closeCounts, names, owner };
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
    const ah = new Proxy(
      {},
      {
        get:
          (_, name) =>
          (...args) =>
            callWasm(mod, (wasm, state) => state[name](...args)),
      },
    );
    instance = createAgentHistory({
      ah,
      client: tw.twilioClient(context),
      workspaceSid: tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID'),
      syncServiceSid: tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID'),
      retry: (fn) => tw.withRetry(context, fn),
    });
  }
  return instance;
}

/** The event callback's hook: never throws (its failure is reported in the callback's answer). */
async function agentHistoryHook(context, fields) {
  try {
    if (
      String(context.AGENT_HISTORY_ENABLED || '')
        .trim()
        .toLowerCase() === 'false'
    )
      return { off: true };
    const agents = agentHistoryFor(context);
    let out;
    try {
      out = await agents.record(fields);
    } catch (err) {
      out = { error: err.message };
    }
    // A new fact that changes closed hours (late, or its span reaching back) closes the agent's
    // rows again (`reclose`); then closing hours (`closing`); both counted apart, failures reported there.
    if (out.written) out.reclose = await agents.reclose(fields).catch((err) => ({ error: err.message }));
    out.closing = await agents.tick().catch((err) => ({ error: err.message }));
    return out;
  } catch (err) {
    return { error: err.message };
  }
}

module.exports = { createAgentHistory, agentHistoryFor, agentHistoryHook };
