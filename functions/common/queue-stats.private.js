// Queue statistics' I/O (docs/queue-stats.md): crates/queue-stats decides everything (the plan of
// an event, the reads, the record, the merging of events, the bulk pacing, the Sync writes and the
// wallboard's copy) in its machines, which common/effects performs. This file runs them one per
// queue at a time (common/serial) and keeps, per warm container, what their answers say to
// remember: records and revisions, deleted queues, confirmed index entries, the board's copies.
//
//   const updater = updaterFor(context);           // the callback's, once per container
//   const summary = await updater.handle(event);   // {plan, taskrouterCalls, syncWrites, syncReads, skipped, boardWrites, errors}
//   createUpdater({ qs, workspaceSid, syncServiceSid, machine, now, sleep, remaining, board, parkedServiceSid })
//   // machine(start): effects.run of the crate's machine `start(qs)` begins, resolving with its body
//   // (the benchmark gives its own, with a simulated clock; see scripts/bench-queue-stats.js)
const { createSerial } = require(Runtime.getFunctions()['common/serial'].path);

const describe = (err) => (err && err.message ? err.message : String(err));
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function createUpdater({ qs, workspaceSid, syncServiceSid, machine, now = Date.now, sleep = realSleep, remaining = () => Infinity, log = () => {}, board = null, parkedServiceSid = null }) {
  const serial = createSerial();
  const records = new Map(); // queue SID -> {data, revision}: the last record this container read or wrote
  const deleted = new Set(); // queues this container saw deleted
  const indexed = new Set(); // queues whose index entry this container confirmed (documents layout)
  const mirrored = new Set(); // queues this container copied to the wallboard
  const granted = new Set(); // the permissions this container gave the board identity (the crate's keys)
  const settings = { syncServiceSid, workspaceSid, parkedServiceSid, board: Boolean(board) };
  const boardSettings = () => board && { serviceSid: board.serviceSid, identity: board.reader.identity, ...board.reader.permission };
  const memory = (sid) => ({ record: records.get(sid) || null, deletedHere: deleted.has(sid), indexConfirmed: indexed.has(sid), mirrored: mirrored.has(sid) });

  /** Adds a machine's counts to the event's and keeps what it says to remember. */
  function keep(stats, sid, out) {
    for (const k of ['taskrouterCalls', 'syncWrites', 'syncReads', 'skipped']) stats[k] += out[k] || 0;
    stats.errors.push(...(out.errors || []));
    if (out.forget) (records.delete(sid), indexed.delete(sid));
    if (out.remember) records.set(sid, out.remember);
    if (out.indexConfirmed) indexed.add(sid);
    if (out.deleted) deleted.add(sid);
  }

  /** The wallboard's copy or removal (`qs.startBoardCopy`, `qs.startBoardRemove`); never throws. */
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
  const boardRemove = (stats, sid) => boardRun(stats, sid, (m) => m.startBoardRemove(sid, boardSettings()));

  /**
   * A queue's run of the works asked for since its last one (the crate merges them). The board's
   * copy goes beside the queue's next run (its objects have their own budgets); the event's
   * answer waits for it. The joined events' calls are counted on the first of them.
   */
  const runQueue = (sid) => async (inputs, waited) => {
    const stats = inputs[0].stats;
    try {
      const works = inputs.map((i) => i.work);
      const out = await machine((m) => m.startRefresh(sid, works, waited, memory(sid), settings, now()));
      keep(stats, sid, out);
      const mirroredBefore = mirrored.has(sid);
      if (out.copy) stats.copies.push(boardRun(stats, sid, (m) => m.startBoardCopy({ queueSid: sid, plan: out.copy, granted: [...granted], mirrored: mirroredBefore }, boardSettings())));
      if (out.boardRemove) await boardRemove(stats, sid);
    } catch (err) {
      stats.errors.push(`${sid}: ${describe(err)}`);
    }
  };
  const refresh = (stats, sid, work) => serial(sid, { stats, work }, runQueue(sid));

  /** Worker events: one bulk run at a time; the workers asked for meanwhile join the next one. */
  const runBulk = async (inputs) => {
    const stats = inputs[0].stats;
    try {
      const out = await machine((m) => m.startBulk({ workerSids: inputs.map((i) => i.workerSid), deleted: [...deleted] }, settings));
      keep(stats, null, out);
      await Promise.all(out.works.map(({ queueSid, work }) => refresh(stats, queueSid, work)));
    } catch (err) {
      stats.errors.push(describe(err));
    }
  };

  async function remove(stats, sid) {
    deleted.add(sid);
    keep(stats, sid, await machine((m) => m.startRemove(sid, { syncServiceSid })));
    if (board) await boardRemove(stats, sid);
  }

  async function handle(event) {
    const stats = { taskrouterCalls: 0, syncWrites: 0, syncReads: 0, skipped: 0, boardWrites: 0, errors: [] };
    // The board copies this event started: awaited before the event's answer, not by the refresh.
    Object.defineProperty(stats, 'copies', { value: [], enumerable: false });
    const plan = qs.plan(event);
    const work = async () => {
      if (plan.action === 'refresh' || plan.action === 'create')
        await refresh(stats, plan.queueSid, { kind: 'refresh', channels: plan.channels, friendlyName: plan.friendlyName, create: plan.action === 'create' });
      if (plan.action === 'delete') await remove(stats, plan.queueSid);
      if (plan.action === 'refreshWorkers') await serial('bulk', { stats, workerSid: plan.workerSid || null }, runBulk);
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

  return { handle, records };
}

let env = {};
let updater = null;

/** The callback's updater (once per warm container), after checking the settings it needs. */
function updaterFor(context) {
  const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);
  const tw = require(Runtime.getFunctions()['common/client'].path);
  const workspaceSid = tw.requireEnv(context, 'TWILIO_FLEX_WORKSPACE_SID');
  const syncServiceSid = tw.requireEnv(context, 'TWILIO_FLEX_SYNC_SID');
  // The configuration (QUEUE_STATS_*) is validated once per container; a bad value is a 500 naming it.
  env = Object.fromEntries(Object.entries(context).filter(([key, value]) => key.startsWith('QUEUE_STATS_') && typeof value === 'string'));
  if (updater) return updater;
  const effects = require(Runtime.getFunctions()['common/effects'].path);
  const { remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);
  const auth = require(Runtime.getFunctions()['common/auth'].path);
  const mod = wasmModule('queue_stats', (wasm) => new wasm.QueueStats(env));
  // Every wasm call goes through the loader, so a trap reloads the module instead of poisoning it.
  const qs = { plan: (event) => mod.call((wasm, instance) => instance.plan(event)) };
  const client = tw.twilioClient(context);
  const machine = (start) => effects.run(context, mod, (wasm, instance) => start(instance), { resume: 'resumeQueueStats', client }).then((answer) => answer.body);
  // The wallboard's statistics service (docs/wallboard.md), when configured and not Flex's own.
  const boardSid = context.WALLBOARD_SYNC_SID && String(context.WALLBOARD_SYNC_SID) !== syncServiceSid ? String(context.WALLBOARD_SYNC_SID) : null;
  const board = boardSid ? { serviceSid: boardSid, reader: auth.boardReader() } : null;
  // Parked calls on the board (docs/direct-calls.md): `Global.ParkedCalls`' service.
  const parkedServiceSid = String(context.SYNC_SERVICE_SID || syncServiceSid);
  updater = createUpdater({ qs, workspaceSid, syncServiceSid, machine, remaining: () => remainingMs(), board, parkedServiceSid });
  return updater;
}

module.exports = { createUpdater, updaterFor };
