// Pacing of Sync writes per object, shared by the queue history and the agent history.
// Sync's write budget per object shrinks with the payload (the crates' writeCost: 20 writes/s up
// to 1 KiB, 2/s from 10 KiB; a map's items count against the map). Writes to one object are
// paced to `share` (default 80 %) of it, leaving headroom for another container.
//
//   const pace = createPacer({ now, sleep });
//   await pace(map, cost);   // resolves when `map`'s last second has room for a write of `cost`
function createPacer({ now = Date.now, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), share = 0.8 } = {}) {
  const writes = new Map(); // object -> [{at, cost}] of the last second
  return async function pace(object, cost) {
    for (;;) {
      const t = now();
      const recent = (writes.get(object) || []).filter((w) => t - w.at < 1000);
      writes.set(object, recent);
      if (recent.reduce((sum, w) => sum + w.cost, 0) + cost <= share || !recent.length) break;
      await sleep(recent[0].at + 1000 - t);
    }
    writes.get(object).push({ at: now(), cost });
  };
}

module.exports = { createPacer };
