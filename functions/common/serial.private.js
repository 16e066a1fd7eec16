// One run per key at a time (live agents' shards, queue statistics' queues and bulk requests):
// inputs arriving during a key's run go together into its next run, `runBatch(inputs, waited)`.
// The first input's caller gets the run's answer, the others `{error}` of it; with `ifIdle`, an
// input that would wait answers `{busy: true}` at once instead.
function createSerial() {
  const waiting = new Map(); // key -> [{input, resolve}] waiting for the key's next run
  return function serial(key, input, runBatch, { ifIdle = false } = {}) {
    return new Promise((resolve) => {
      const queued = waiting.get(key);
      if (queued && ifIdle) return resolve({ busy: true });
      waiting.set(key, [...(queued || []), { input, resolve }]);
      if (queued) return;
      (async () => {
        for (let batch, waited = false; (batch = waiting.get(key)).length; waited = true) {
          waiting.set(key, []);
          const inputs = batch.map((b) => b.input);
          const out = await runBatch(inputs, waited).catch((err) => ({ error: err && err.message ? err.message : String(err) }));
          batch.forEach((b, i) => b.resolve(i === 0 ? out : { error: out && out.error }));
        }
        waiting.delete(key);
      })();
    });
  };
}

module.exports = { createSerial };
