// Queue statistics' I/O (docs/queue-stats.md): crates/queue-stats' machines decide (the services
// from its settings, the event's plan, reads, record, merging, bulk pacing, Sync writes, the
// wallboard's copy) and its wasm instance keeps what their answers say to remember; common/effects
// performs. This file runs them one per queue at a time (common/serial) and adds up their counts.
//
//   const summary = await updaterFor(context).handle(event);  // {plan, taskrouterCalls, syncWrites, syncReads, skipped, boardWrites, errors}
//   createUpdater({ qs, machine, ... })  // the same on another clock (scripts/bench-queue-stats.js)
const { createSerial } = require(Runtime.getFunctions()['common/serial'].path);
const { within } = require(Runtime.getFunctions()['common/deadline'].path);

const describe = (err) => (err && err.message ? err.message : String(err));

function createUpdater({ qs, machine, now = Date.now, remaining = () => Infinity }) {
  const serial = createSerial();

  /** Adds a machine's counts to the event's; the instance keeps what it says to remember (`onBoard`: a board copy's). */
  function keep(stats, sid, out, onBoard = false) {
    for (const k of ['taskrouterCalls', 'syncReads', 'skipped']) stats[k] += out[k] || 0;
    stats[onBoard ? 'boardWrites' : 'syncWrites'] += out.syncWrites || 0;
    stats.errors.push(...(out.errors || []));
    if (sid) qs.keep(sid, out, onBoard); // a bulk run's answer (its works) holds nothing to keep
  }

  /** The wallboard's copy or removal (`startBoardCopy`, `startBoardRemove`: nothing without a board); never throws. */
  const boardRun = (stats, sid, start) =>
    machine(start).then(
      (out) => keep(stats, sid, out, true),
      (err) => stats.errors.push(`wallboard copy of ${sid}: ${describe(err)}`),
    );
  const boardRemove = (stats, sid) => boardRun(stats, sid, (m) => m.startBoardRemove(sid));

  // A queue's run of the works asked for since its last one (the crate merges them; the joined
  // events' calls count on the first). The board's copy goes beside the queue's next run (its
  // objects have their own budgets); the event's answer waits for it.
  const runQueue = (sid) => async (inputs, waited) => {
    const stats = inputs[0].stats;
    try {
      const out = await machine((m) => m.startRefresh({ queueSid: sid, works: inputs.map((i) => i.work), waited }, now()));
      keep(stats, sid, out);
      if (out.copy) stats.copies.push(boardRun(stats, sid, (m) => m.startBoardCopy({ queueSid: sid, plan: out.copy })));
      if (out.boardRemove) await boardRemove(stats, sid);
    } catch (err) {
      stats.errors.push(`${sid}: ${describe(err)}`);
    }
  };
  const refresh = (stats, sid, work) => serial(sid, { stats, work }, runQueue(sid));

  // Worker events: one bulk run at a time (the workers asked for meanwhile join the next), whose
  // queues' works then go through each queue's run; a queue's entry never waits behind its run in
  // progress (the crate's merge drops an entry that waited: that run fetched after it).
  const runBulk = async (inputs) => {
    const stats = inputs[0].stats;
    const out = await machine((m) => m.startBulk({ workerSids: inputs.map((i) => i.workerSid) }));
    keep(stats, null, out);
    const runs = out.works.map(({ queueSid, work }) => serial(queueSid, { stats, work }, runQueue(queueSid), { ifIdle: true }));
    stats.skipped += (await Promise.all(runs)).filter((r) => r && r.busy).length;
  };

  async function remove(stats, sid) {
    keep(stats, sid, await machine((m) => m.startRemove(sid)));
    await boardRemove(stats, sid);
  }

  async function handle(event) {
    const stats = { taskrouterCalls: 0, syncWrites: 0, syncReads: 0, skipped: 0, boardWrites: 0, errors: [] };
    Object.defineProperty(stats, 'copies', { value: [], enumerable: false }); // the board copies this event started
    const plan = qs.plan(event); // a bad setting throws here: the callback's 500 naming it
    const work = async () => {
      if (plan.action === 'refresh' || plan.action === 'create')
        await refresh(stats, plan.queueSid, { kind: 'refresh', channels: plan.channels, friendlyName: plan.friendlyName, create: plan.action === 'create' });
      if (plan.action === 'delete') await remove(stats, plan.queueSid);
      const bulk = plan.action === 'refreshWorkers' && (await serial('bulk', { stats, workerSid: plan.workerSid || null }, runBulk));
      if (bulk && bulk.error) stats.errors.push(bulk.error);
    };
    const settled = work().then(
      () => Promise.all(stats.copies).then(() => stats.errors.slice()),
      (err) => (stats.errors.push(describe(err)), stats.errors.slice()),
    );
    // The answer goes at the invocation's deadline (common/deadline) even when a record still
    // waits for write budget (the executor sends nothing that cannot finish by then).
    const left = remaining();
    const done = settled.then(() => false);
    const late = await (Number.isFinite(left) ? within(Math.max(0, left), done, () => true) : done);
    const summary = { plan, ...stats, errors: stats.errors.slice() };
    if (late) summary.errors.push(`not finished within the invocation's budget (FUNCTION_BUDGET_MS): Sync write budget exhausted (see docs/queue-stats.md)`);
    // Not part of the answer: resolves with the errors once the work is done (the benchmark's staleness).
    return Object.defineProperty(summary, 'settled', { value: settled, enumerable: false });
  }

  return { handle };
}

let latest = {}; // the last invocation's context: the settings an instance (re)loaded reads
let updater = null;

/** The event callback's updater, one per warm container. */
function updaterFor(context) {
  latest = context;
  if (updater) return updater;
  const fn = (name) => require(Runtime.getFunctions()[`common/${name}`].path);
  const { wasmModule, settingsIn, callWasm } = fn('wasm');
  // The wallboard's own Sync service (docs/wallboard.md): crates/agents-live's rule, one for both.
  const boardSid = fn('agents-live').boardSidOf(context);
  const reader = boardSid && fn('auth').boardReader();
  const board = boardSid ? { serviceSid: boardSid, identity: reader.identity, ...reader.permission } : null;
  // The instance reads its settings (queue_stats::SETTINGS: the QUEUE_STATS_* and the services);
  // a bad or missing one is a 500 naming it, on every event until it is fixed.
  const mod = wasmModule('queue_stats', (wasm) => new wasm.QueueStats(settingsIn(latest, wasm.queueStatsSettings()), { board }));
  const machine = (start) =>
    fn('effects')
      .run(latest, mod, (wasm, instance) => start(instance), 'resumeQueueStats')
      .then((answer) => answer.body);
  // Every wasm call goes through the loader (a trap reloads the module).
  const qs = { plan: (event) => callWasm(mod, (wasm, instance) => instance.plan(event)), keep: (...args) => callWasm(mod, (wasm, instance) => instance.keep(...args)) };
  updater = createUpdater({ qs, machine, remaining: () => fn('deadline').remainingMs() });
  return updater;
}

module.exports = { createUpdater, updaterFor };
