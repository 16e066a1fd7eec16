// Parked calls on the wallboard (docs/direct-calls.md, "Parked calls on the board"): the
// queue-statistics callback adds each queue's parked figures to its record, from the
// `Global.ParkedCalls` entries, with no write of its own. crates/parking (`board`) decides what
// counts and whether the record changed; this file reads the entries.
//
//   const parked = createParkedBoard({ client, syncServiceSid, retry, parking });
//   createUpdater({ ..., extras: parked })   // common/queue-stats calls strip() and decorate()
//
// One read of the map per refresh (pages of 100; concurrent refreshes share the read in flight).
// A read that fails keeps the previous record's figures and never fails the callback.
const GLOBAL_MAP = 'Global.ParkedCalls';

function createParkedBoard({ client, syncServiceSid, retry = (fn) => fn(), parking, log = console.warn }) {
  let inflight = null;

  function entries() {
    if (!inflight) {
      inflight = retry(() => client.sync.v1.services(syncServiceSid).syncMaps(GLOBAL_MAP).syncMapItems.list({ pageSize: 100 }))
        .then(
          (items) => parking.call((wasm) => wasm.parkedByQueue(items.map((i) => i.data))),
          (err) => (err && err.status === 404 ? {} : Promise.reject(err)),
        )
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
