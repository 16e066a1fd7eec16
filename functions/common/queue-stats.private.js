// The I/O of realtimestats-updateQueueStatistics: the queue-stats wasm module decides (plan,
// record, change, SLA); this file only performs the TaskRouter reads and Sync writes it asks for.
//
//   const { createUpdater } = require(Runtime.getFunctions()['common/queue-stats'].path);
//   const updater = createUpdater({ qs, client, workspaceSid, syncServiceSid, retry, now, board, machine, remaining });
//   // machine(start): runs the crate's store machine on the effects executor (common/effects'
//   // run, with `start(qs)` its first step) and resolves with its answer's body
//   // remaining(): ms left before the invocation must answer (common/deadline's remainingMs)
//   // board (optional): {serviceSid, reader: {identity, permission}} — the wallboard's statistics
//   // service (WALLBOARD_SYNC_SID, ACL on): every record is written there too, see below
//   const summary = await updater.handle(event);   // {plan, taskrouterCalls, syncWrites, skipped, errors}
//
// Everything is injected (the wasm instance, the `twilio` client, the retry policy and the clock),
// so the benchmark drives this same code with a simulated clock. It requires nothing from Runtime.
//
// One updater lives per warm container. It keeps the last record written per queue (saving a Sync
// read per event), and it runs at most one refresh per queue at a time: an event arriving while its
// queue is being refreshed joins the next refresh (channels merged), which fetches fresh figures
// after the running one has written. Records never go backwards and bursts cost no more calls.
// What to write (skip, update, create, remove, index repair, the wallboard's copy and its
// permissions) and every Sync write of it is the crate's store machine (crates/queue-stats `store`:
// `qs.startStore`, `qs.startRemove`, `qs.startBoardCopy`, `qs.startBoardRemove`), performed
// by the effects executor (deadline, retries, pacing); this file adds its counts to the event's
// summary and keeps what it says to remember. Worker events share bulk statistics requests, at
// most 5 per second.
const MAP = 'queueStats';
// The bulk real-time statistics endpoint takes at most 5 requests per second.
const BULK_PER_SECOND = 5;

const notFound = (err) => err && err.status === 404;
const describe = (err) => (err && err.message ? `${err.message}${err.code ? ` (${err.code})` : ''}` : String(err));

const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** At most `perSecond` calls of `fn` started in any second; callers wait their turn. */
function createGate({ now, sleep, perSecond }) {
  let recent = [];
  let chain = Promise.resolve();
  return (fn) => {
    const turn = chain.then(async () => {
      for (;;) {
        const t = now();
        recent = recent.filter((x) => t - x < 1000);
        if (recent.length < perSecond) break;
        await sleep(recent[0] + 1000 - t);
      }
      recent.push(now());
    });
    chain = turn.catch(() => null);
    return turn.then(fn);
  };
}

// `extras` (optional, e.g. common/parked-board): {strip(previous), async decorate(built, previous)}
// adds fields to a built record after the crate built it from the previous one without them.
function createUpdater({
  qs,
  client,
  workspaceSid,
  syncServiceSid,
  machine,
  retry = (fn) => fn(),
  now = Date.now,
  sleep = realSleep,
  remaining = () => Infinity,
  log = () => {},
  board = null,
  extras = null,
}) {
  const bulkGate = createGate({ now, sleep, perSecond: BULK_PER_SECOND });
  const layout = qs.layout();
  const records = new Map(); // queue SID -> {data, revision}: the last record this container read or wrote
  const deleted = new Set(); // queues this container saw deleted
  const indexed = new Set(); // queues whose index entry this container confirmed (documents layout)
  const running = new Map(); // queue SID -> {promise, next: {channels, friendlyName, create, waiters} | null}
  const workspace = () => client.taskrouter.v1.workspaces(workspaceSid);
  const sync = () => client.sync.v1.services(syncServiceSid);

  function counters() {
    const stats = { taskrouterCalls: 0, syncWrites: 0, syncReads: 0, skipped: 0, boardWrites: 0, errors: [] };
    // The board copies this event started: awaited before the event's answer, not by the refresh.
    return Object.defineProperty(stats, 'copies', { value: [], enumerable: false });
  }

  // The wallboard's copy (docs/wallboard.md): the same objects in the board's own Sync service,
  // whose budgets are their own, written after Flex's (which the published realtime-stats plugin
  // reads). The board identity gets its read-only permission on each object once per container
  // (the objects this container creates included), so minting a board token grants nothing per
  // queue. A queue this container has not copied yet is copied even when Flex's record is
  // unchanged (a new board service fills up). A failure here never fails Flex's write. A copy runs
  // beside the queue's next refresh, not before it (its objects have their own budgets), so it never
  // delays Flex's records; the event's answer waits for it (within the deadline).
  const mirrored = new Set(); // queue SIDs this container copied
  const granted = new Set(); // the permissions this container gave the board identity (the crate's keys)
  const boardSettings = () => board && { serviceSid: board.serviceSid, identity: board.reader.identity, ...board.reader.permission };

  /** Runs a board machine (`qs.startBoardCopy`, `qs.startBoardRemove`); never throws. */
  async function boardRun(stats, sid, start) {
    try {
      const done = await machine(start);
      stats.boardWrites += done.syncWrites;
      stats.syncReads += done.syncReads;
      stats.errors.push(...done.errors);
      done.granted.forEach((key) => granted.add(key));
      if (done.mirrored) mirrored.add(sid);
      if (done.forget) mirrored.delete(sid);
    } catch (err) {
      stats.errors.push(`wallboard copy of ${sid}: ${describe(err)}`);
    }
  }

  // A queue's first copy in this container: the crate's plan for a record never written (so it
  // carries the index entry in the documents layout).
  const firstCopy = (sid, record) => qs.writePlan({ queueSid: sid, record, changed: true, known: 'absent', gone: false, deletedHere: false, indexConfirmed: false });
  const boardCopy = (stats, sid, plan) => boardRun(stats, sid, (m) => m.startBoardCopy({ queueSid: sid, plan, granted: [...granted], mirrored: mirrored.has(sid) }, boardSettings()));
  const boardRemove = (stats, sid) => boardRun(stats, sid, (m) => m.startBoardRemove(sid, boardSettings()));

  async function tr(stats, fn) {
    stats.taskrouterCalls += 1;
    return retry(fn);
  }

  const remember = (sid, data, written) => records.set(sid, { data, revision: written && written.revision !== undefined ? String(written.revision) : null });
  const fetchStored = (sid) => (layout === 'documents' ? retry(() => sync().documents(qs.documentName(sid)).fetch()) : retry(() => sync().syncMaps(MAP).syncMapItems(sid).fetch()));

  /** The previous record and where it came from: `cached`, `read` (from Sync now) or `absent`. */
  async function previousRecord(stats, sid) {
    if (records.has(sid)) return { record: records.get(sid).data, known: 'cached' };
    stats.syncReads += 1;
    try {
      const found = await fetchStored(sid);
      remember(sid, found.data, found);
      return { record: found.data, known: 'read' };
    } catch (err) {
      if (notFound(err)) return { record: null, known: 'absent' };
      throw err;
    }
  }

  /**
   * Runs the store machine `start(qs)` begins; adds its counts to `stats`, keeps what it says to
   * remember (the record and revision now in Sync, a confirmed index entry) and answers its plan.
   */
  async function store(stats, sid, start) {
    const done = await machine(start);
    stats.syncWrites += done.syncWrites;
    stats.syncReads += done.syncReads;
    stats.skipped += done.skipped;
    stats.errors.push(...done.errors);
    if (done.forget) (records.delete(sid), indexed.delete(sid));
    if (done.remember) records.set(sid, done.remember);
    if (done.indexConfirmed) indexed.add(sid);
    return done.plan || { action: 'skip' };
  }

  /** Stores a built record (see the crate's `store` module), then the board's copy. */
  async function perform(stats, sid, input) {
    const settings = { syncServiceSid };
    const revision = records.has(sid) ? records.get(sid).revision : null;
    const plan = await store(stats, sid, (m) => m.startStore({ ...input, queueSid: sid, revision, deletedHere: deleted.has(sid), indexConfirmed: indexed.has(sid) }, settings));
    if (plan.action === 'remove') {
      deleted.add(sid);
      if (board) await boardRemove(stats, sid);
      return;
    }
    // Flex's record is current; the board's copy may not exist yet: copy it.
    if (!board || !records.has(sid) || deleted.has(sid)) return;
    if (plan.action === 'skip' && !mirrored.has(sid)) stats.copies.push(boardCopy(stats, sid, firstCopy(sid, records.get(sid).data)));
    if (plan.action === 'write') stats.copies.push(boardCopy(stats, sid, mirrored.has(sid) ? plan : firstCopy(sid, plan.record)));
  }

  async function remove(stats, sid) {
    await store(stats, sid, (m) => m.startRemove(sid, { syncServiceSid }));
    if (board) await boardRemove(stats, sid);
  }

  async function refreshQueue(stats, sid, { channels, friendlyName }) {
    const { record: previous, known } = await previousRecord(stats, sid);
    let name = friendlyName || (previous && previous.friendlyName);
    if (!name && !deleted.has(sid)) {
      try {
        name = (await tr(stats, () => workspace().taskQueues(sid).fetch())).friendlyName;
      } catch (err) {
        if (!notFound(err)) stats.errors.push(`TaskQueue ${sid}: ${describe(err)}`);
      }
    }
    const params = qs.statisticsParams(now());
    const fetched = deleted.has(sid)
      ? []
      : await Promise.all(
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
              (err) => ({ channel, error: describe(err), status: err && err.status }),
            ),
          ),
        );
    const statuses = fetched.map((f) => ({ status: f.status }));
    const bare = extras ? extras.strip(previous) : previous;
    let built = qs.isGone(statuses) || deleted.has(sid) ? null : qs.build({ queue: { sid, friendlyName: name }, previous: bare, fetched }, now());
    if (built && extras) built = await extras.decorate(built, previous);
    if (built) stats.errors.push(...built.errors);
    await perform(stats, sid, { record: built ? built.record : null, changed: Boolean(built && built.changed), known, fetched: statuses });
  }

  /**
   * Runs `first` (a refresh, or a bulk record's store) holding the queue's slot: refreshes asked
   * for meanwhile wait and then run as one (channels merged), so one queue's writes never overlap
   * and its record never goes backwards. Resolves when the slot is free again.
   */
  async function occupy(stats, sid, first) {
    const entry = { next: null };
    running.set(sid, entry);
    let job = first;
    for (;;) {
      try {
        await job(stats);
      } catch (err) {
        stats.errors.push(`${sid}: ${describe(err)}`);
      }
      const next = entry.next;
      if (!next) break;
      entry.next = null;
      // The joined events' calls are counted on the first of them.
      stats = next.waiters.length ? next.waiters[0].stats : stats;
      const work = { channels: [...next.channels], friendlyName: next.friendlyName, create: next.create };
      job = async (s) => {
        try {
          await refreshQueue(s, sid, work);
        } finally {
          next.waiters.forEach((w) => w.resolve());
        }
      };
    }
    running.delete(sid);
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
    return new Promise((resolve) => {
      occupy(stats, sid, async (s) => {
        try {
          await refreshQueue(s, sid, work);
        } finally {
          resolve();
        }
      });
    });
  }

  async function refreshWorkers(stats, workerSid) {
    const queues = await tr(stats, () => workspace().taskQueues.list(workerSid ? { workerSid } : {}));
    const known = queues.map((q) => ({ sid: q.sid, friendlyName: q.friendlyName })).filter((q) => !deleted.has(q.sid));
    for (const batch of qs.batches(known.map((q) => q.sid))) {
      await bulk.refresh(stats, batch, known);
    }
  }

  /**
   * Worker events share bulk requests: the queues asked for while a request waits for its turn
   * (at most 5 per second) join it, up to 50 per request, so a burst of worker events costs no
   * more than the endpoint allows.
   */
  const bulk = (() => {
    const pending = new Map(); // queue SID -> {friendlyName, waiters: [{stats, resolve}]}
    let draining = false;

    async function send() {
      // The next request's queues: the crate's first batch (at most 50 valid SIDs); a SID no batch
      // takes is finished at once.
      const batches = qs.batches([...pending.keys()]);
      const valid = new Set(batches.flat());
      for (const [sid, e] of pending) if (!valid.has(sid)) (pending.delete(sid), e.waiters.forEach((w) => w.resolve()));
      if (!batches.length) return;
      const sids = batches[0];
      const batch = sids.map((sid) => [sid, pending.get(sid)]);
      sids.forEach((sid) => pending.delete(sid));
      const owner = batch[0][1].waiters[0].stats;
      const finish = () => batch.forEach(([, e]) => e.waiters.forEach((w) => w.resolve()));
      let response;
      try {
        response = await bulkGate(() => tr(owner, () => workspace().taskQueues.bulkRealTimeStatistics.create(sids)));
      } catch (err) {
        owner.errors.push(`bulk statistics: ${describe(err)}`);
        return finish();
      }
      const previous = {};
      const known = {};
      for (const sid of sids) {
        const found = await previousRecord(owner, sid).catch(() => ({ record: null, known: 'absent' }));
        previous[sid] = found.record;
        known[sid] = found.known;
      }
      const queues = batch.map(([sid, e]) => ({ sid, friendlyName: e.friendlyName }));
      let built = qs.applyBulk({ queues, previous: extras ? Object.fromEntries(Object.entries(previous).map(([k, v]) => [k, extras.strip(v)])) : previous, response: response.toJSON() }, now());
      if (extras) built = await Promise.all(built.map((b) => extras.decorate(b, previous[b.key])));
      // The batch's records are stored at once (the executor paces them against their objects).
      await Promise.all(
        built.map(async (b) => {
          // A queue that is being refreshed gets fresher figures from that refresh.
          if (running.has(b.key)) {
            owner.skipped += 1;
            return;
          }
          // The queue's slot is held while its record is stored (a refresh asked for meanwhile runs after it).
          await new Promise((resolve) => occupy(owner, b.key, (s) => perform(s, b.key, { record: b.record, changed: b.changed, known: known[b.key] || 'absent' }).finally(resolve)));
        }),
      );
      return finish();
    }

    async function drain() {
      draining = true;
      while (pending.size) await send();
      draining = false;
    }

    return {
      refresh(stats, sids, queues) {
        const names = new Map(queues.map((q) => [q.sid, q.friendlyName]));
        const waits = sids.map(
          (sid) =>
            new Promise((resolve) => {
              if (!pending.has(sid)) pending.set(sid, { friendlyName: names.get(sid) || null, waiters: [] });
              pending.get(sid).waiters.push({ stats, resolve });
            }),
        );
        if (!draining) drain();
        return Promise.all(waits);
      },
    };
  })();

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
          deleted.add(plan.queueSid);
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
      () => Promise.all(stats.copies).then(() => stats.errors.slice()),
      (err) => (stats.errors.push(describe(err)), stats.errors.slice()),
    );
    // TaskRouter waits 15 s for an answer and a Function may run 10 s: the answer goes at the
    // invocation's deadline (common/deadline) even when a record still waits for write budget (the
    // executor sends no request that cannot finish by then; the next event writes the record).
    const left = remaining();
    await (Number.isFinite(left) ? Promise.race([settled, sleep(Math.max(0, left)).then(() => (late = true))]) : settled);
    const summary = { plan, ...stats, errors: stats.errors.slice() };
    if (late) summary.errors.push(`not finished within the invocation's budget (FUNCTION_BUDGET_MS): Sync write budget exhausted (see docs/queue-stats.md)`);
    log(plan, summary);
    // Not part of the answer: resolves with the errors once the work is really done (the benchmark
    // measures staleness with it).
    Object.defineProperty(summary, 'settled', { value: settled, enumerable: false });
    return summary;
  }

  return { handle, layout, records };
}

module.exports = { createUpdater };
