// Queue history (docs/queue-history.md): crates/history-machines decides, common/effects performs.
//   historySeries(context, params)  GET /queue-history's answer {status, body}
//   historyTick(context)            the event callback's hook, one at a time; never throws
const { machines } = require(Runtime.getFunctions()['common/wasm'].path);
const { remainingMs } = require(Runtime.getFunctions()['common/deadline'].path);

const history = machines('history_machines', 'historySettings', { resume: 'resumeHistory', text: true, oneAtATime: true });

function historySeries(context, params) {
  const deadlineMs = Number.isFinite(remainingMs()) ? Date.now() + remainingMs() : null;
  return history.run(context, (wasm, input) => wasm.startHistorySeries(input), { params, deadlineMs, listQueues: true });
}

const historyTick = (context) => history.hook(context, (wasm, input) => wasm.startHistoryHook(input));

module.exports = { historySeries, historyTick };
