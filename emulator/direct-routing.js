// The workflow filter for direct calls (docs/direct-calls.md): a task whose attributes carry
// `directCall.workerSid` goes to that worker only (known-worker expression
// `task.directCall.workerSid == worker.sid`). The emulator does not route other tasks; for a direct
// call created through the API it does what that filter does: the named worker, when their
// activity is Available and the task's channel has room, gets a pending reservation (the task is
// then `reserved`); otherwise the task stays `pending`, as it would wait in the workflow step until
// its timeout (the voicemail path). No other worker is ever offered it.

/** The worker a new task is reserved for, or null. `assigned(worker, channel)`: tasks they hold. */
function directCallTarget(ctx, task, assigned) {
  let attrs;
  try {
    attrs = JSON.parse(task.attributes);
  } catch {
    return null;
  }
  const sid = attrs && attrs.directCall && attrs.directCall.workerSid;
  const worker = typeof sid === 'string' && ctx.state.taskrouter.workspace.workers.get(sid);
  if (!worker || worker.activityName !== 'Available') return null;
  const channel = worker.channels.get(task.taskChannel === 'default' ? 'voice' : task.taskChannel);
  if (!channel || !channel.available || assigned(worker, channel) >= channel.capacity) return null;
  return worker.sid;
}

module.exports = { directCallTarget };
