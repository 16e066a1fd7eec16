#!/usr/bin/env node
// The schedule config CLI, for admins who keep the config in git:
//   npm run schedule -- validate [file]                       every problem, naming rule/schedule and value
//   npm run schedule -- preview <name> [--days N] [--file f] [--from ISO instant]
//                                                             open/closed intervals with reasons and rules
// `file` defaults to assets/config.private.json. Uses the schedule crate's wasm (npm run build), so
// it answers exactly what update, preview and check-schedule would.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const USAGE = 'usage: npm run schedule -- validate [file]\n       npm run schedule -- preview <name> [--days N] [--file f] [--from 2024-12-20T00:00:00Z]';

function option(args, name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  if (value === undefined) throw new Error(`${name} needs a value\n${USAGE}`);
  return value;
}

/** The evaluation module (ScheduleBook) and the admin module (prepareUpdate, previewReply) in one object. */
function loadWasm() {
  const glue = (crate) => path.join(root, 'functions', 'wasm', `${crate}.private.js`);
  for (const crate of ['schedule', 'schedule_admin']) {
    if (!fs.existsSync(glue(crate))) throw new Error(`The ${crate} module is not built yet: run \`npm run build\` first.`);
  }
  return { ...require(glue('schedule')), ...require(glue('schedule_admin')) };
}

function main(argv) {
  const args = argv.slice();
  const command = args.shift();
  const fileArg = option(args, '--file');
  const days = option(args, '--days');
  const from = option(args, '--from');
  const wasm = loadWasm();
  if (command === 'validate') {
    const file = path.resolve(args[0] || fileArg || path.join(root, 'assets', 'config.private.json'));
    const verdict = wasm.prepareUpdate(fs.readFileSync(file, 'utf8'));
    if (!verdict.ok) {
      console.error(`${path.relative(process.cwd(), file)}: ${verdict.body.problems.length} problem(s)`);
      for (const p of verdict.body.problems) console.error(`  - ${p.message}`);
      return 1;
    }
    const book = wasm.ScheduleBook.load(verdict.config);
    const names = book.scheduleNames();
    console.log(`${path.relative(process.cwd(), file)}: valid (${names.length} schedules: ${names.join(', ')})`);
    for (const w of book.warnings()) console.log(`  warning: ${w}`);
    return 0;
  }
  if (command === 'preview') {
    const name = args[0];
    if (!name) throw new Error(`preview needs a schedule name\n${USAGE}`);
    const file = path.resolve(fileArg || path.join(root, 'assets', 'config.private.json'));
    const nowMs = from === undefined ? Date.now() : Date.parse(from);
    if (Number.isNaN(nowMs)) throw new Error(`--from ${from} is not an ISO date-time`);
    const { status, body } = wasm.previewReply(fs.readFileSync(file, 'utf8'), name, nowMs, days);
    if (status !== 200) {
      console.error(body.error);
      for (const p of body.problems || []) console.error(`  - ${p.message}`);
      return 1;
    }
    for (const s of body.schedules) {
      console.log(`${s.name} (${s.timeZone}), ${body.days} days from ${body.from}:`);
      for (const i of s.intervals) {
        const state = i.isOpen ? 'open  ' : `closed (${i.closedReason})`;
        console.log(`  ${i.start}  to  ${i.end}  ${state}${i.rule ? `  [${i.rule}]` : ''}`);
      }
    }
    return 0;
  }
  throw new Error(USAGE);
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exitCode = 2;
}
