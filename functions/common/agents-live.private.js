// The live agents view's writer (docs/agents-live.md): crates/agents-live's machines decide and
// keep what they remember; common/effects performs. Both entry points never throw:
//   agentsLiveTick(context, event), agentsLiveUnheard(context, workerSid, unheard)  // -> summary | {off} | {error}
const { machines, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { createSerial } = require(Runtime.getFunctions()['common/serial'].path);
const { within, remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);

const live = machines('agents_live', 'agentsLiveSettings', { resume: 'resumeAgentsLive' });
const serial = createSerial(); // one run per shard (and the index) at a time: events meanwhile join its next

function createWriter(context) {
  const run = (start, extra) => live.run(context, start, extra).then((answer) => answer.body);
  const writeShard = (shard) => (inputs) => run((w, input) => w.startAgentsLiveShard(input), { shard, inputs });
  async function handle(event, known = {}) {
    const out = await run((w, input) => w.startAgentsLiveEvent(input), { event, knownQueues: known.queues }); // known: the worker's queues, already read
    if (!out.write) return out;
    const written = await serial(`shard:${out.write.shard}`, out.write.input, writeShard(out.write.shard));
    const indexed = written.indexShard === undefined ? {} : await serial('index', written.indexShard, (shards) => run((w, input) => w.startAgentsLiveIndex(input), { shards }));
    return callWasm(live.mod, (w) => w.agentsLiveSummary(out, written, indexed));
  }
  return { handle };
}

/** `handle(event)` within `ms`; past it, says so (the write goes on in this container). */
function bounded(context, event, ms) {
  const late = () => ({ error: `not finished within ${(ms / 1000).toFixed(1)} s (Sync write budget); it goes on in this container` });
  return within(ms, createWriter(context).handle(event), late).catch((err) => ({ error: (err && err.message) || String(err) }));
}

// The callback's fields (its `request` left out), answered by the invocation's deadline (common/deadline).
const agentsLiveTick = (context, fields) => bounded(context, fields || {}, remainingMs());
/** A worker's unheard voicemails (the voicemail machine's count) onto their record; a newer count wins. */
const agentsLiveUnheard = (context, worker, unheard, at, ms) => bounded(context, { EventType: 'voicemail.unheard', WorkerSid: worker, EventDateMs: at, VoicemailUnheard: unheard }, ms);

module.exports = { agentsLiveTick, agentsLiveUnheard, createWriter, live };
