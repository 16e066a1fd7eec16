// Direct-call benchmark (part of `npm run bench`; alone: `node scripts/bench-direct.js`):
// - the extension rules through the wasm boundary (crates/direct-calls' machine, a call answered
//   from its cache: plan + answer);
// - `direct-extension` answered by twilio-run against the emulator, per kind of call: the one
//   worker-list read, the one voice-channel read, and none (cached); TaskRouter requests counted;
// - a park on the board: from the TaskRouter event a park causes to the parked count in the
//   board's copy of the queue's record (the callback's answer, which waits for that copy).
const path = require('path');
const { startStack } = require('../tests/helpers/stack');
const { emulatorClient, postForm, heldTask, sid } = require('../tests/helpers/emulator-client');

const glue = path.join(__dirname, '..', 'functions', 'wasm', 'direct_calls.private.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 2) => Number(x.toFixed(d));

function rulesUs(n = 2000) {
  const wasm = require(glue);
  const row = { sid: 'WK' + '1'.repeat(32), friendlyName: 'ada', activityName: 'Available', available: true, attributes: '{"directExtension":"1234","full_name":"Ada"}' };
  // The machine's cache (its module instance) learns the extension and the voice channel, then
  // every call is answered from it: plan + answer, no read.
  const env = { cacheSeconds: '60', workspaceSid: 'WS' + '1'.repeat(32) };
  const at = Date.now();
  wasm.resume(wasm.startDirectExtension({ extension: '1234' }, env, at).state, [{ ok: true, value: [row] }], at);
  wasm.resume(wasm.startDirectExtension({ extension: '1234' }, env, at).state, [{ ok: true, value: { configuredCapacity: 2, assignedTasks: 1, available: true } }], at);
  const once = () => {
    if (!wasm.startDirectExtension({ extension: '1234' }, env, at).answer) throw new Error('bench-direct: the cached call made a read');
  };
  for (let i = 0; i < n; i++) once();
  const samples = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) once();
    samples.push(Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  return round(median(samples));
}

async function benchDirect({ rounds = 15 } = {}) {
  const out = { direct_rules_us: rulesUs() };
  const stack = await startStack({ env: { DIRECT_EXTENSION_CACHE_SECONDS: '60' } });
  try {
    const { emu, rt } = stack;
    const client = emulatorClient(emu);
    const workers = client.taskrouter.v1.workspaces(emu.functionEnv().WORKSPACE_SID).workers;
    const kinds = { list: [], channel: [], cached: [] };
    const requests = { list: 0, channel: 0, cached: 0 };
    for (let i = 0; i < rounds; i++) {
      const ext = String(5000 + i);
      const w = await workers.create({ friendlyName: `bench-${ext}`, attributes: JSON.stringify({ directExtension: ext }) });
      await stack.control('POST', `/emulator/workers/${w.sid}/activity`, { activity: 'Available' });
      for (const kind of ['list', 'channel', 'cached']) {
        const from = emu.requests.length;
        const t0 = performance.now();
        const r = await postForm(rt.url('/direct-extension'), { extension: ext });
        kinds[kind].push(performance.now() - t0);
        if (r.status !== 200 || !r.body.available) throw new Error(`bench direct: ${JSON.stringify(r.body)}`);
        requests[kind] = Math.max(requests[kind], emu.requests.slice(from).filter((q) => q.product === 'taskrouter').length);
      }
    }
    for (const kind of Object.keys(kinds)) {
      out[`direct_extension_${kind}_ms`] = round(median(kinds[kind]));
      out[`direct_extension_${kind}_taskrouter_requests`] = requests[kind];
    }

    // A park, then the parked task's wrap-up event: time until the board's copy counts it.
    const queue = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Bench' })).sid;
    const { token, worker_sid: worker } = emu.makeToken({ identity: 'bench-parker', roles: ['agent'] });
    const lags = [];
    for (let i = 0; i < 5; i++) {
      const call = (await client.calls.create({ to: '+15005550006', from: '+15005550001', twiml: '<Response><Dial><Conference>x</Conference></Dial></Response>' })).sid;
      const task = sid('WT');
      await stack.control('POST', `/emulator/taskqueues/${queue}/tasks/${task}/entered`, {});
      await stack.control('POST', `/emulator/taskqueues/${queue}/tasks/${task}/accepted`, {});
      const parked = await postForm(rt.url('/park-call'), {
        Token: token,
        attributes: '{}',
        callSid: call,
        name: 'B',
        queueName: 'Bench',
        taskSid: await heldTask(emu, worker, call),
        workerSid: worker,
        workflowSid: 'WW' + 'a'.repeat(32),
      });
      if (parked.status !== 200) throw new Error(`bench direct: park ${JSON.stringify(parked.body)}`);
      const t0 = performance.now();
      await stack.control('POST', `/emulator/taskqueues/${queue}/tasks/${task}/wrapup`, {});
      const record = (await client.sync.v1.services(emu.functionEnv().WALLBOARD_SYNC_SID).syncMaps('queueStats').syncMapItems(queue).fetch()).data;
      lags.push(performance.now() - t0);
      if (record.parked.count !== i + 1) throw new Error(`bench direct: parked ${JSON.stringify(record.parked)}`);
    }
    out.parked_event_to_board_ms = round(median(lags));
  } finally {
    await stack.stop();
  }
  return out;
}

function formatDirect(f) {
  return [
    'direct calls',
    `  extension rules through wasm (plan + answer)     ${f.direct_rules_us} µs`,
    `  direct-extension, worker-list read               ${f.direct_extension_list_ms} ms   (${f.direct_extension_list_taskrouter_requests} TaskRouter request)`,
    `  direct-extension, voice-channel read             ${f.direct_extension_channel_ms} ms   (${f.direct_extension_channel_taskrouter_requests} TaskRouter request)`,
    `  direct-extension, cached                         ${f.direct_extension_cached_ms} ms   (${f.direct_extension_cached_taskrouter_requests} TaskRouter requests)`,
    `  park: wrap-up event -> parked count on the board ${f.parked_event_to_board_ms} ms   (target: within 2000 ms)`,
    '  (twilio-run and the emulator on this machine, median; the emulator answers at once)',
  ].join('\n');
}

module.exports = { benchDirect, formatDirect };

if (require.main === module) {
  benchDirect()
    .then((f) => console.log(process.argv.includes('--json') ? JSON.stringify(f) : formatDirect(f)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
