// Queue statistics' I/O (docs/queue-stats.md): crates/queue-stats' QueueStats instance decides,
// remembers and tallies; this runs its machines on common/effects, one per queue at a time.
//   const summary = await updaterFor(context).handle(event);  // {plan, taskrouterCalls, syncWrites, syncReads, skipped, boardWrites, errors}
//   createUpdater({ qs, machine, now, remaining })  // the same on another clock (scripts/bench-queue-stats.js; machine(start) -> answer)
const { createSerial } = require(Runtime.getFunctions()['common/serial'].path);
const { within } = require(Runtime.getFunctions()['common/deadline'].path);

const describe = (err) => (err && err.message ? err.message : String(err));

function createUpdater({ qs, machine, now = Date.now, remaining = () => Infinity }) {
  const serial = createSerial();
  // A machine's run for the event `ev`: its answer's body (kept, counted), or undefined (its error counted).
  const run = (ev, sid, start, onBoard = false) =>
    machine(start)
      .then(({ body }) => ((ev.tally = qs.answered(ev.tally, sid, body, onBoard)), body))
      .catch((err) => void (ev.tally = qs.failed(ev.tally, sid, describe(err), onBoard)));
  // A queue's run of the works asked for since its last one; its board copy goes beside the next.
  const runQueue = (sid) => async (inputs, waited) => {
    const ev = inputs[0].ev;
    const out = await run(ev, sid, (m) => m.startRefresh({ queueSid: sid, works: inputs.map((i) => i.work), waited }, now()));
    if (out && out.copy) ev.copies.push(run(ev, sid, (m) => m.startBoardCopy({ queueSid: sid, plan: out.copy }), true));
    if (out && out.boardRemove) await run(ev, sid, (m) => m.startBoardRemove(sid), true);
  };
  // A queue's bulk entry never waits behind its run in progress (that run fetches after it).
  const runBulk = async (inputs) => {
    const ev = inputs[0].ev;
    const out = await run(ev, null, (m) => m.startBulk({ workerSids: inputs.map((i) => i.workerSid) }));
    const runs = ((out && out.works) || []).map(({ queueSid, work }) => serial(queueSid, { ev, work }, runQueue(queueSid), { ifIdle: true }));
    ev.tally = qs.answered(ev.tally, null, { skipped: (await Promise.all(runs)).filter((r) => r && r.busy).length }, false);
  };

  async function handle(event) {
    const { plan, tally, refresh, remove, bulk } = qs.start(event); // a bad setting throws here: the callback's 500 naming it
    const ev = { tally, copies: [] };
    const work = async () => {
      if (refresh) await serial(refresh.queueSid, { ev, work: refresh.work }, runQueue(refresh.queueSid));
      if (remove && (await run(ev, remove, (m) => m.startRemove(remove)))) await run(ev, remove, (m) => m.startBoardRemove(remove), true);
      const { error } = (bulk && (await serial('bulk', { ev, workerSid: bulk.workerSid }, runBulk))) || {};
      if (error) throw new Error(error);
      await Promise.all(ev.copies);
    };
    const fail = (err) => (ev.tally = qs.failed(ev.tally, null, describe(err), false)).errors;
    const settled = work().then(() => ev.tally.errors, fail);
    // The answer goes at the invocation's deadline even when a record still waits for write budget.
    const done = settled.then(() => false);
    const late = await within(Math.max(0, remaining()), done, () => true);
    // `settled` (not in the answer) resolves with the errors once the work is done (the benchmark's staleness).
    return Object.defineProperty({ plan, ...qs.summary(ev.tally, late) }, 'settled', { value: settled, enumerable: false });
  }

  return { handle };
}

let [latest, updater] = [{}, null]; // latest: the last invocation's context, whose settings a (re)loaded instance reads

/** The event callback's updater, one per warm container; a bad or missing setting is a 500 naming it, on every event. */
function updaterFor(context) {
  latest = context;
  if (updater) return updater;
  const fn = (name) => require(Runtime.getFunctions()[`common/${name}`].path);
  const { wasmModule, settingsIn, callWasm } = fn('wasm');
  const mod = wasmModule('queue_stats', (wasm) => new wasm.QueueStats(settingsIn(latest, wasm.queueStatsSettings())));
  const machine = (start) => fn('effects').run(latest, mod, (wasm, instance) => start(instance), 'resumeQueueStats');
  // Every wasm call goes through the loader (a trap reloads the module).
  const qs = Object.fromEntries(['start', 'answered', 'failed', 'summary'].map((n) => [n, (...args) => callWasm(mod, (wasm, instance) => instance[n](...args))]));
  return (updater = createUpdater({ qs, machine, remaining: () => fn('deadline').remainingMs() }));
}

module.exports = { createUpdater, updaterFor };
