// Pacing of Sync writes per object, for the executor (an effect's `pace: {object, cost}`). The
// cost is the crates' Sync write cost (a share of the object's budget: 1/20 up to 1 KiB, 1/2 from
// 10 KiB; a map's items count against the map); one object's writes take at most `share` (80 %)
// of its budget in any second, leaving room for another container.
function createPacer({ now = Date.now, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), share = 0.8 } = {}) {
  const writes = new Map(); // object -> [{at, cost}] of the last second
  return async function pace(object, cost) {
    for (;;) {
      const t = now();
      const recent = (writes.get(object) || []).filter((w) => t - w.at < 1000);
      writes.set(object, recent);
      if (!recent.length || recent.reduce((sum, w) => sum + w.cost, 0) + cost <= share) break;
      await sleep(recent[0].at + 1000 - t);
    }
    writes.get(object).push({ at: now(), cost });
  };
}

module.exports = { createPacer };
