// The agent history's event callback hook (crates/agent-history's machine startAgentHistoryHook,
// docs/agent-history.md) driven outside a Function, with the functions' own executor
// (functions/common/effects' `perform`: the same client, retries and pacing), as one more
// "container": for the seeding script, the benchmark and tests that close hours directly.
//
//   const { agentHistoryHook } = require('./agent-history-hook');
//   const h = agentHistoryHook({ context: emulator.functionEnv(), env: { QUEUE_STATS_TIME_ZONE: 'UTC' }, now });
//   await h.hook(fields)          // the whole hook for one event, as the event callback runs it
//   await h.record(fields)        // the event's record only (no closing): {kept, written, chunk, taskrouterCalls, syncReads, syncWrites}
//   await h.closeHour(startMs)    // closes the local hour containing startMs at once (claimed first):
//                                 // {hour, state: closed|stored|held, items?, syncReads, syncWrites}
//
// `now` is the machine's clock (the emulator's, in tests); `pacer: {now, sleep}` paces Sync writes
// on a clock of its own (a manual one makes a benchmark measure the work, not the waits).
const path = require('path');
const { randomUUID } = require('crypto');

const root = path.resolve(__dirname, '..');
const common = path.join(root, 'functions', 'common');
global.Runtime = global.Runtime || {
  getFunctions: () => Object.fromEntries(['http', 'deadline', 'client', 'wasm', 'effects'].map((n) => [`common/${n}`, { path: path.join(common, `${n}.private.js`) }])),
  getAssets: () => ({}),
};

function agentHistoryHook({ context, env = {}, now = Date.now, pacer = null }) {
  const effects = require(path.join(common, 'effects.private.js'));
  const tw = require(path.join(common, 'client.private.js'));
  const { createPacer } = require(path.join(common, 'effects.private.js'));
  const wasm = require(path.join(root, 'functions', 'wasm', 'agent_history.private.js'));
  const client = tw.twilioClient(context);
  const pace = pacer ? createPacer(pacer) : undefined;
  const owner = randomUUID(); // this "container": its claims and its memory in the module
  // The settings the machine reads (agent_history::SETTINGS): `env`'s, the services the context's.
  const given = { ...env, WORKSPACE_SID: context.WORKSPACE_SID || context.TWILIO_FLEX_WORKSPACE_SID, TWILIO_FLEX_SYNC_SID: context.TWILIO_FLEX_SYNC_SID || context.SYNC_SERVICE_SID };
  const settings = { env: Object.fromEntries(wasm.agentHistorySettings().flatMap((n) => (typeof given[n] === 'string' ? [[n, given[n]]] : []))), owner };

  async function run(extra) {
    let step = wasm.startAgentHistoryHook({ ...settings, run: randomUUID(), nonce: Math.floor(Math.random() * 1000), nowMs: now(), ...extra });
    while (step.run) {
      const outcomes = await Promise.all(step.run.map((e) => effects.perform(context, client, e, { pace })));
      step = wasm.resumeAgentHistoryHook(step.state, outcomes, now());
    }
    return step.answer.body;
  }

  return {
    hook: (fields) => run({ event: fields }),
    record: (fields) => run({ event: fields, recordOnly: true }),
    closeHour: (startMs) => run({ event: null, closeHour: startMs }),
    owner,
  };
}

module.exports = { agentHistoryHook };
