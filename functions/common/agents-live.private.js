// The live agents view's I/O (docs/agents-live.md): crates/agents-live's machines decide and its
// wasm module keeps what they remember; common/effects performs. One run per shard at a time
// (common/serial): events arriving meanwhile join its next run. Both entry points never throw:
//   agentsLiveTick(context, event), agentsLiveUnheard(context, workerSid, unheard)  // -> summary | {off} | {error}
const effects = require(Runtime.getFunctions()['common/effects'].path);
const { wasmModule, callWasm } = require(Runtime.getFunctions()['common/wasm'].path);
const { createSerial } = require(Runtime.getFunctions()['common/serial'].path);
const { within } = require(Runtime.getFunctions()['common/deadline'].path);

const mod = wasmModule('agents_live');
const DEADLINE_MS = 8000;
const RESUME = 'resumeAgentsLive';
const describe = (err) => (err && err.message ? err.message : String(err));

/** The settings the machines read, as the crate names them (agents_live::SETTINGS; never a secret). */
const envOf = (context) => mod.settings(context, 'agentsLiveSettings');

const serial = createSerial(); // one run per shard (and for the index) at a time

function createWriter(context) {
  const env = envOf(context);
  // Runs a machine, then the module keeps what its answer says to (`what`: whose answer it is).
  const run = (what, start) => effects.run(context, mod, start, RESUME).then(({ body }) => (callWasm(mod, (w) => w.agentsLiveKeep(what, body, Date.now())), body));
  const writeShard = (shard) => (inputs) => run({ shard }, (w) => w.startAgentsLiveShard(shard, inputs, env, Date.now()));
  const addToIndex = (shards) => run({ index: true }, (w) => w.startAgentsLiveIndex(shards, env));
  async function handle(event, prefetched = {}) {
    const { write, membershipKnown, ...out } = await run({ event }, (w) => w.startAgentsLiveEvent(event, prefetched.queues || null, env, Date.now()));
    if (!write) return out;
    const written = await serial(`shard:${write.shard}`, write.input, writeShard(write.shard));
    const indexed = written.indexShard === undefined ? {} : await serial('index', written.indexShard, addToIndex);
    const parts = [out, written, indexed];
    const sum = (k) => parts.reduce((n, p) => n + (p[k] || 0), 0);
    return { ...out, syncReads: sum('syncReads'), syncWrites: sum('syncWrites'), errors: [...out.errors, ...parts.slice(1).flatMap((p) => (p.error ? [p.error] : []))] };
  }
  return { handle };
}

/** `handle(event)` within `ms`; past it, says so (the write goes on in this container). */
const bounded = (context, event, ms) =>
  within(ms, createWriter(context).handle(event), () => ({ error: `not finished after ${ms / 1000} s (Sync write budget); it goes on in this container` })).catch((err) => ({ error: describe(err) }));

async function agentsLiveTick(context, event) {
  const { request, ...fields } = event || {};
  return bounded(context, fields, DEADLINE_MS);
}

/**
 * A worker's unheard voicemails (counted by the voicemail functions after a change to the box)
 * onto their record through the same writer; a newer count wins. Answers within `ms`.
 */
async function agentsLiveUnheard(context, workerSid, unheard, atMs = Date.now(), ms = 2000) {
  return bounded(context, { EventType: 'voicemail.unheard', WorkerSid: workerSid, EventDateMs: atMs, VoicemailUnheard: unheard }, ms);
}

/** The board's own Sync service, or null (crates/agents-live `board_service`). */
const boardSidOf = (context) => callWasm(mod, (w) => w.agentsLiveBoardService(envOf(context)));

module.exports = { agentsLiveTick, agentsLiveUnheard, createWriter, boardSidOf, envOf, mod, RESUME };
