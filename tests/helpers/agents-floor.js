// A large floor for the live agents view's browser test and benchmark: N workers in the emulator's
// queues (no events), and their shard documents written by the real writer
// (functions/common/agents-live.private.js: the agents-live machines on common/effects) from one
// `worker.created` and one `worker.activity.update` per worker, fed concurrently as a burst of
// callbacks would be. Answers the workers [{sid, friendlyName, team, queues}].
const path = require('path');
const { emulatorClient } = require('./emulator-client');
const { root } = require('./runtime');

const ACTIVITIES = ['Available', 'Available', 'Available', 'Break', 'Lunch', 'Training', 'Offline'];

/** The writer's wasm instance, loaded from the built glue as a container loads it. */
function agentsLiveWasm(env = {}) {
  const glue = require(path.join(root, 'functions', 'wasm', 'agents_live.private.js'));
  return new glue.AgentsLive(env);
}

async function seedFloor(stack, { agents = 2000, queues, teams = 12, now = Date.now(), concurrency = 2000 } = {}) {
  const env = stack.emu.functionEnv();
  const workers = [];
  for (let i = 0; i < agents; i += 1) {
    const mine = [queues[i % queues.length], queues[(i * 7 + 3) % queues.length]].filter((q, j, all) => all.indexOf(q) === j);
    workers.push({ friendlyName: `Agent ${String(i + 1).padStart(4, '0')}`, team: `Team ${(i % teams) + 1}`, queues: mine, activity: ACTIVITIES[i % ACTIVITIES.length] });
  }
  // Grouped by queue set, so each request adds workers to their queues.
  const byQueues = new Map();
  workers.forEach((w) => byQueues.set(w.queues.join(','), [...(byQueues.get(w.queues.join(',')) || []), w]));
  for (const [set, list] of byQueues) {
    const answer = await stack.control('POST', '/emulator/agents', {
      queues: set.split(','),
      workers: list.map((w) => ({ friendlyName: w.friendlyName, team: w.team, activity: w.activity })),
      announce: false,
    });
    answer.workers.forEach((created, i) => (list[i].sid = created.sid));
  }
  // The functions' own writer (common/agents-live on common/effects), outside twilio-run: its
  // requests go to the emulator through the functions' client (TWILIO_API_ORIGIN).
  const common = path.join(root, 'functions', 'common');
  const functions = { ...(global.Runtime ? global.Runtime.getFunctions() : {}) };
  for (const n of ['http', 'deadline', 'client', 'wasm', 'effects', 'serial', 'agents-live']) functions[`common/${n}`] = { path: path.join(common, `${n}.private.js`) };
  functions['wasm/agents_live'] = { path: path.join(root, 'functions', 'wasm', 'agents_live.private.js') };
  global.Runtime = { ...(global.Runtime || {}), getFunctions: () => functions, getAssets: () => ({}) };
  // At most 8 requests in flight through the functions' client: the emulator shares this process
  // (a container's requests go out over its own connections; here the point is the documents).
  let active = 0;
  const waiting = [];
  const limit = async (fn) => {
    if (active >= 8) await new Promise((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await fn();
    } finally {
      active -= 1;
      if (waiting.length) waiting.shift()();
    }
  };
  const client = require(path.join(common, 'client.private.js')).twilioClient(env);
  if (!client.httpClient.limited) {
    const request = client.httpClient.request.bind(client.httpClient);
    client.httpClient.request = (opts) => limit(() => request(opts));
    client.httpClient.limited = true;
  }
  const { createWriter } = require(path.join(common, 'agents-live.private.js'));
  const writer = createWriter(env);
  const names = Object.fromEntries((await emulatorClient(stack.emu).taskrouter.v1.workspaces(env.WORKSPACE_SID).taskQueues.list()).map((q) => [q.sid, q.friendlyName]));
  const events = workers.map((w, i) => [
    {
      EventType: 'worker.created',
      Sid: `EVc${String(i).padStart(30, '0')}`,
      WorkerSid: w.sid,
      WorkerName: w.friendlyName,
      WorkerAttributes: JSON.stringify({ team_name: w.team }),
      WorkerActivityName: w.activity,
      EventDateMs: String(now - 3600000 + i * 1000),
    },
    // The worker's queues as TaskRouter lists them (read once here instead of once per worker).
    { queues: w.queues.map((sid) => ({ sid, friendlyName: names[sid] })) },
  ]);
  const summaries = [];
  for (let i = 0; i < events.length; i += concurrency) summaries.push(...(await Promise.all(events.slice(i, i + concurrency).map(([e, known]) => writer.handle(e, known)))));
  const errors = summaries.flatMap((s) => s.errors);
  if (errors.length) throw new Error(`seeding the floor: ${errors.slice(0, 3).join('; ')}`);
  return { workers, summaries, writer };
}

module.exports = { seedFloor, agentsLiveWasm, ACTIVITIES };
