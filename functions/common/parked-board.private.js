// Parked calls on the wallboard (docs/direct-calls.md, "Parked calls on the board"): the
// queue-statistics callback adds each queue's parked figures to its record, from the
// `Global.ParkedCalls` entries, with no write of its own. crates/parking (`board`) decides what
// counts and whether the record changed; the machine `startParkedBoard` (crates/call-handling)
// reads the entries through common/effects.
//
//   const parked = createParkedBoard({ context, syncServiceSid, parking });
//   createUpdater({ ..., extras: parked })   // common/queue-stats calls strip() and decorate()
//
// One read of the map per refresh (pages of 100; concurrent refreshes share the read in flight).
// A read that fails keeps the previous record's figures and never fails the callback.
const { wasmModule } = require(Runtime.getFunctions()['common/wasm'].path);

const GLOBAL_MAP = 'Global.ParkedCalls';

function createParkedBoard({ context, syncServiceSid, parking, log = console.warn }) {
  const effects = require(Runtime.getFunctions()['common/effects'].path);
  const calls = wasmModule('call_handling');
  let inflight = null;

  function entries() {
    if (!inflight) {
      inflight = effects
        .run(context, calls, (wasm) => wasm.startParkedBoard({ syncServiceSid }))
        .then((answer) => (answer.status === 200 ? answer.body : Promise.reject(new Error(answer.body.error))))
        .finally(() => (inflight = null));
    }
    return inflight;
  }

  return {
    /** The previous record as queue-stats compares it: without `parked` (added after the build). */
    strip(previous) {
      if (!previous || typeof previous !== 'object' || previous.parked === undefined) return previous;
      const { parked, ...rest } = previous;
      return rest;
    },
    /** `built` (queue-stats' answer for a queue) with the queue's parked figures. */
    async decorate(built, previous) {
      if (!built || !built.record) return built;
      let byQueue;
      try {
        byQueue = await entries();
      } catch (err) {
        log(`parked calls: ${GLOBAL_MAP} not read (${err.message}); the figures stay as they were`);
        return previous && previous.parked ? { ...built, record: { ...built.record, parked: previous.parked } } : built;
      }
      const figures = byQueue[built.record.friendlyName] || null;
      return parking.call((wasm) => wasm.withParked(built, figures, previous || null));
    },
  };
}

module.exports = { createParkedBoard, GLOBAL_MAP };
