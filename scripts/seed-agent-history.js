#!/usr/bin/env node
// Days of the emulator's simulated contact center (emulator/contact-center-model.js played by
// emulator/history-traffic.js through the one agent model, emulator/agent-activity.js: shifts,
// calls offered, answered, rejected and timed out, wrap-up with a disposition, breaks) recorded as
// agent history in Sync by the product's own hook (crates/agent-history's machine, driven by
// scripts/agent-history-hook with the functions' executor), in
// process, so the agent history view shows real charts offline without a running callback.
//
//   const { seedAgentHistory } = require('./seed-agent-history');
//   await seedAgentHistory(emulator, { days: 7, agents: 6, env });   // a queue "Helpdesk" of 6 -> {agents, events}
//   await seedAgentHistory(emulator, { events, env });              // events kept while seeding queue history
//   SEED_HISTORY=1 npm start          // scripts/start.js: the queue history's days, then their agents' events
//   node scripts/seed-agent-history.js  // alone: seeds a fresh emulator and reports
//
// `npm run simulate` does the same against a running stack through the real event callback
// (POST /emulator/history/seed {agentDays}, then POST /emulator/agents/days).
const aa = require('../emulator/agent-activity');
const { agentHistoryHook } = require('./agent-history-hook');

async function seedAgentHistory(emulator, { days = 7, agents = 6, queues, events, env = {}, seed = 7, log = () => {} } = {}) {
  // Pacing on a manual clock: the emulator's Sync counts writes on its own clock, held at each event.
  let t = 0;
  const history = agentHistoryHook({ context: emulator.functionEnv(), env, now: () => Date.now(), pacer: { now: () => t, sleep: async (ms) => (t += ms) } });
  // The records only, as they came: hours are closed by the event callback's hook (or on read).
  const record = async (params) => {
    t += 1000;
    const r = await history.record(params);
    if (r.error) throw new Error(r.error);
    return r;
  };
  let played;
  if (events) {
    await aa.replay(emulator.ctx, events, record);
    const sids = new Set(events.map((p) => p.WorkerSid));
    played = { agents: [...sids].map((sid) => ({ sid, friendlyName: emulator.ctx.state.taskrouter.workspace.workers.get(sid).friendlyName })), events: events.length };
  } else {
    played = await aa.playDays(emulator.ctx, { days, agents, queues, seed, onEvent: record });
  }
  log(`seed-agent-history: ${played.events} events of ${played.agents.length} agents recorded`);
  return played;
}

module.exports = { seedAgentHistory };

if (require.main === module) {
  (async () => {
    const { startEmulator } = require('../emulator');
    const emulator = await startEmulator({ port: 0 });
    const t0 = Date.now();
    const r = await seedAgentHistory(emulator, { log: console.log });
    console.log(`${r.events} events recorded in ${Date.now() - t0} ms`);
    await emulator.close();
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
