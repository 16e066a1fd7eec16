#!/usr/bin/env node
// `npm run bench`: prints measured figures (`-- --json` prints one JSON object instead).
//
// Schedule: per-evaluation time through the wasm boundary on a 10-rule schedule with the config
// loaded once, for {isOpen, closedReason} alone and for the whole answer with nextChange; cold
// start in a fresh Node process (require the glue, instantiate, parse the config); module size;
// check-schedule's cold first answer beside the published evaluator's, and the largest valid
// config's cold load and preview (scripts/bench-schedule.js).
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..');
const gluePath = path.join(root, 'functions', 'wasm', 'schedule.private.js');
const wasmPath = path.join(root, 'assets', 'wasm', 'schedule_bg.private.wasm');
const asJson = process.argv.includes('--json');
const log = (...args) => {
  if (!asJson) console.log(...args);
};

/** The shipped config plus a schedule that uses all ten of its rules. */
function benchConfig() {
  const config = JSON.parse(fs.readFileSync(path.join(root, 'assets', 'config.private.json'), 'utf8'));
  config.schedules.push({
    name: 'Bench',
    manualClose: false,
    timeZone: 'America/New_York',
    rules: config.rules.map((r) => r.id),
  });
  if (config.rules.length !== 10) throw new Error(`bench expects 10 rules, the config has ${config.rules.length}`);
  return JSON.stringify(config);
}

/** Median nanoseconds per call of `fn(i)` over `rounds` rounds of `n` calls. */
function nsPerCall(fn, n, rounds = 7) {
  for (let i = 0; i < n; i++) fn(i); // warm up (JIT, wasm tier-up)
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function coldStartMs(config, runs = 9) {
  const script = `
    const t0 = performance.now();
    const { ScheduleBook } = require(${JSON.stringify(gluePath)});
    const book = new ScheduleBook(require('fs').readFileSync(${JSON.stringify(config)}, 'utf8'));
    const t1 = performance.now();
    if (book.scheduleNames().length === 0) process.exit(1);
    process.stdout.write(String(t1 - t0));`;
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function benchSchedule() {
  const { ScheduleBook } = require(gluePath);
  const configText = benchConfig();
  const book = new ScheduleBook(configText);
  // Instants spread over two weeks, every 7 minutes, so every rule and path is exercised.
  const start = Date.parse('2026-11-16T00:00:00Z');
  const instants = Array.from({ length: 2880 }, (_, i) => start + i * 7 * 60_000);
  const at = (i) => instants[i % instants.length];

  let open = 0;
  const evalNs = nsPerCall((i) => {
    if (book.isOpen('Bench', undefined, at(i)).isOpen) open++;
  }, 200_000);
  const answerNs = nsPerCall((i) => {
    if (book.check('Bench', undefined, at(i)).status !== 200) throw new Error('bench check failed');
  }, 20_000);
  if (open === 0) throw new Error('bench schedule never opened: the benchmark measures nothing useful');

  const configFile = path.join(root, 'target', 'bench-config.json');
  fs.mkdirSync(path.dirname(configFile), { recursive: true });
  fs.writeFileSync(configFile, configText);
  const wasm = fs.readFileSync(wasmPath);
  return {
    schedule_eval_ns: Math.round(evalNs),
    schedule_answer_ns: Math.round(answerNs),
    schedule_cold_start_ms: Number(coldStartMs(configFile).toFixed(2)),
    schedule_wasm_bytes: wasm.length,
    schedule_wasm_gzip_bytes: zlib.gzipSync(wasm, { level: 9 }).length,
  };
}

async function main() {
  const figures = benchSchedule();
  log('check-schedule (10-rule schedule, through the wasm boundary)');
  log(`  evaluation {isOpen, closedReason}   ${figures.schedule_eval_ns} ns   (target <= 2000 ns)`);
  log(`  whole answer with nextChange        ${figures.schedule_answer_ns} ns   (target <= 50000 ns)`);
  // Issue 2's target: half the published evaluator's load (about 20 ms), on a quiet machine; on a
  // loaded one compare it with the published cold first answer printed below in the same run.
  log(
    `  cold start: require+instantiate+config ${figures.schedule_cold_start_ms} ms   (target <= 10 ms on a quiet machine, issue 2; ${figures.schedule_cold_start_ms <= 10 ? 'met' : 'NOT met in this run'})`,
  );
  log(`  module size                         ${figures.schedule_wasm_bytes} bytes, ${figures.schedule_wasm_gzip_bytes} gzipped`);

  // Studio's path from a fresh container, beside the published evaluator (scripts/bench-schedule.js).
  const cold = require(path.join(__dirname, 'bench-schedule.js'));
  const first = cold.coldFirstAnswers(path.join(root, 'target', 'bench-config.json'), 'Bench');
  const largestFile = path.join(root, 'target', 'bench-largest-config.json');
  fs.writeFileSync(largestFile, cold.largestConfig());
  const preview = cold.coldPreviewMs(largestFile);
  Object.assign(figures, {
    schedule_cold_first_answer_ms: Number(first.ours.toFixed(2)),
    published_cold_first_answer_ms: Number(first.published.toFixed(2)),
    schedule_cold_first_answer_min_ms: Number(first.oursMin.toFixed(2)),
    published_cold_first_answer_min_ms: Number(first.publishedMin.toFixed(2)),
    schedule_largest_config_bytes: fs.statSync(largestFile).size,
    schedule_largest_config_cold_load_ms: Number(cold.coldConfigLoadMs(largestFile).toFixed(2)),
    // Schedule 1 is its costliest: 100 rules, one of them a COUNT rule judged after the other.
    schedule_largest_config_cold_first_check_ms: Number(cold.coldLoadAndCheckMs(largestFile, 'Schedule 1').toFixed(2)),
    schedule_largest_config_preview_ms: Number(preview.ms.toFixed(1)),
    schedule_largest_config_preview_intervals: preview.intervals,
  });
  log('check-schedule cold first answer (fresh process, twilio loaded; module load + config + first check, median)');
  log(`  check-schedule                      ${figures.schedule_cold_first_answer_ms} ms (fastest ${figures.schedule_cold_first_answer_min_ms} ms)`);
  log(
    `  published evaluator (luxon+rrule)   ${figures.published_cold_first_answer_ms} ms (fastest ${figures.published_cold_first_answer_min_ms} ms)   (target: check-schedule <= a third of it; ratio ${(first.ours / first.published).toFixed(2)})`,
  );
  log(`largest valid config (${figures.schedule_largest_config_bytes} bytes as stored)`);
  log(`  cold load (fresh process)           ${figures.schedule_largest_config_cold_load_ms} ms   (target <= 50 ms)`);
  log(`  cold load + first check, costliest  ${figures.schedule_largest_config_cold_first_check_ms} ms   (its schedule compiled on that check)`);
  log(
    `  /admin/preview, 62 days, cold       ${figures.schedule_largest_config_preview_ms} ms, ${preview.intervals} intervals${preview.truncated ? ' (truncated at the limit)' : ''}   (target <= 2000 ms)`,
  );

  const queueBench = path.join(__dirname, 'bench-queue-stats.js');
  if (fs.existsSync(queueBench)) {
    const { benchQueueStats, formatQueueStats } = require(queueBench);
    figures.queue_stats = await benchQueueStats();
    if (!asJson) console.log(`\n${formatQueueStats(figures.queue_stats)}`);
  }
  const staffingBench = path.join(__dirname, 'bench-staffing.js');
  if (fs.existsSync(staffingBench)) {
    const { benchStaffing, formatStaffing } = require(staffingBench);
    figures.staffing = benchStaffing();
    if (!asJson) console.log(`\n${formatStaffing(figures.staffing)}`);
  }
  const historyBench = path.join(__dirname, 'bench-history.js');
  if (fs.existsSync(historyBench)) {
    const { benchHistory, formatHistory } = require(historyBench);
    figures.queue_history = await benchHistory();
    if (!asJson) console.log(`\n${formatHistory(figures.queue_history)}`);
  }
  const boardBench = path.join(__dirname, 'bench-board.js');
  if (fs.existsSync(boardBench)) {
    const { benchBoard, formatBoard } = require(boardBench);
    figures.wallboard = await benchBoard();
    if (!asJson) console.log(`\n${formatBoard(figures.wallboard)}`);
    const renderBench = path.join(__dirname, 'bench-render.js');
    if (fs.existsSync(renderBench)) {
      const { benchRender, formatRender } = require(renderBench);
      figures.wallboard_render = await benchRender();
      if (!asJson) console.log(`\n${formatRender(figures.wallboard_render)}`);
    }
    const { benchBoardCopy, formatBoardCopy } = require(boardBench);
    figures.wallboard_copy = await benchBoardCopy();
    if (!asJson) console.log(`\n${formatBoardCopy(figures.wallboard_copy)}`);
  }
  const directBench = path.join(__dirname, 'bench-direct.js');
  if (fs.existsSync(directBench)) {
    const { benchDirect, formatDirect } = require(directBench);
    figures.direct_calls = await benchDirect();
    if (!asJson) console.log(`\n${formatDirect(figures.direct_calls)}`);
  }
  if (fs.existsSync(path.join(__dirname, 'bench-agents-live.js')))
    figures.agents_live = await require('./bench-agents-live')
      .benchAgentsLive()
      .then((r) => (log(`\n${require('./bench-agents-live').formatAgentsLive(r)}`), r));
  const agentBench = path.join(__dirname, 'bench-agent-history.js');
  if (fs.existsSync(agentBench)) {
    const { benchAgentHistory, formatAgentHistory } = require(agentBench);
    figures.agent_history = await benchAgentHistory();
    if (!asJson) console.log(`\n${formatAgentHistory(figures.agent_history)}`);
  }
  if (asJson) console.log(JSON.stringify(figures));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
