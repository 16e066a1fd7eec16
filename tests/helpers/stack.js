// The stack `npm start` runs, for end-to-end and browser tests: the emulator, and twilio-run with
// the emulator's environment; the workspace's Event Callback URL points at the queue-stats function.
//
//   const stack = await startStack({ env: { WALLBOARD_KEY: '...' } });
//   stack.emu, stack.rt, await stack.control('POST', '/emulator/taskqueues', { friendlyName: 'Sales' })
//   await stack.stop();
const { startEmulator } = require('../../emulator');
const { startRuntime } = require('./runtime');

async function startStack({ env = {} } = {}) {
  const emu = await startEmulator({ port: 0 });
  let rt;
  try {
    rt = await startRuntime({ env: { ...emu.functionEnv(), ...env } });
  } catch (err) {
    await emu.close();
    throw err;
  }
  async function control(method, path, body) {
    const res = await fetch(`${emu.origin}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(answer)}`);
    return answer;
  }
  await control('POST', '/emulator/event-callback', { url: rt.url('/realtimestats-updateQueueStatistics') });
  const stop = async () => {
    try {
      await rt.stop();
    } finally {
      await emu.close();
    }
  };
  return { emu, rt, control, stop };
}

module.exports = { startStack };
