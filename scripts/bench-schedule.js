// Cold-start figures of check-schedule on Studio's call path, beside the published evaluator's,
// and the cold load of the largest configuration validation accepts. Used by scripts/bench.js.
//
// "Cold first answer": a fresh Node process (a new container) that already has the `twilio`
// library loaded, as the Functions runtime has; timed from requiring the function's module to its
// first answer for the current instant (module load + config + first check).
//
// - check-schedule: the real functions/check-schedule.js shim with its common/* helpers and the
//   wasm glue, under a minimal Runtime/Twilio global (the shipped config as /config.json).
// - The published evaluator (Flex Schedule Manager, serverless-schedule-manager): its function
//   loads `rrule` and `luxon` at module load (the versions its lock file pins, here devDependencies)
//   and parses the config there, then evaluates each rule of the schedule with them per request.
//   `publishedEvaluator` below is a re-implementation written for this benchmark that makes the
//   same library calls (RRule.parseString, an RRule with count 1 from the local date, all();
//   DateTime.utc().setZone, DateTime.fromISO for HH:MM): only the loading and the library work are
//   reproduced, not its code. Its helper module's other requires (lodash, the token validator)
//   are left out, which only makes the published figure smaller.
//
// The two run interleaved, process by process, so machine noise hits both alike; medians.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

/** The shim's function map as the runtime builds it: `common/http` -> {path}. */
function functionMap() {
  const out = {};
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js')) {
        const key = path
          .relative(path.join(root, 'functions'), file)
          .replace(/\.js$/, '')
          .replace(/\.(private|protected)$/, '');
        out[key] = { path: file };
      }
    }
  };
  walk(path.join(root, 'functions'));
  return out;
}

function oursScript(configFile, name) {
  return `
    require('twilio'); // loaded by the runtime before any function
    const functions = ${JSON.stringify(functionMap())};
    const assets = { '/config.json': { path: ${JSON.stringify(configFile)} } };
    global.Runtime = { getFunctions: () => functions, getAssets: () => assets };
    global.Twilio = { Response: class { setStatusCode(s) { this.statusCode = s; } appendHeader() {} setBody(b) { this.body = b; } } };
    const t0 = performance.now();
    const { handler } = require(functions['check-schedule'].path);
    handler({}, { name: ${JSON.stringify(name)} }, (err, response) => {
      const ms = performance.now() - t0;
      if (err || response.statusCode !== 200 || typeof response.body.isOpen !== 'boolean') {
        console.error(err || JSON.stringify(response.body));
        process.exit(1);
      }
      process.stdout.write(String(ms));
    });`;
}

/** The published evaluator's work, re-implemented over its libraries (see the header). */
function publishedEvaluator() {
  /* eslint-disable no-undef */
  const { RRule } = require('rrule');
  const { DateTime } = require('luxon');
  const config = JSON.parse(require('fs').readFileSync(CONFIG_FILE, 'utf8'));

  const hm = (text) => {
    const t = DateTime.fromISO(text);
    return t.hour * 60 + t.minute;
  };
  const onDate = (rule, day) => {
    if (rule.startDate && day < new Date(Date.parse(rule.startDate))) return false;
    if (rule.endDate && day > new Date(Date.parse(rule.endDate))) return false;
    if (!rule.dateRRule) return true;
    const options = RRule.parseString(rule.dateRRule);
    options.count = 1;
    options.dtstart = day;
    return new RRule(options).all().some((d) => d.valueOf() === day.valueOf());
  };
  const inTime = (rule, minute) => (!rule.startTime || minute >= hm(rule.startTime)) && (!rule.endTime || minute < hm(rule.endTime));

  return (name) => {
    const schedule = config.schedules.find((s) => s.name === name);
    if (!schedule) return { isOpen: true, closedReason: 'error' };
    if (schedule.manualClose) return { isOpen: false, closedReason: 'manual' };
    const local = DateTime.utc().setZone(schedule.timeZone);
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day));
    const minute = local.hour * 60 + local.minute;
    const matching = schedule.rules.map((id) => config.rules.find((r) => r.id === id)).filter((rule) => rule && onDate(rule, day) && inTime(rule, minute));
    const closed = matching.find((r) => !r.isOpen);
    if (closed) return { isOpen: false, closedReason: closed.closedReason };
    return matching.length ? { isOpen: true, closedReason: '' } : { isOpen: false, closedReason: 'closed' };
  };
}

function publishedScript(configFile, name) {
  return `
    require('twilio');
    process.chdir(${JSON.stringify(root)});
    module.paths.unshift(${JSON.stringify(path.join(root, 'node_modules'))});
    const CONFIG_FILE = ${JSON.stringify(configFile)};
    const t0 = performance.now();
    const evaluate = (${publishedEvaluator.toString()})();
    const answer = evaluate(${JSON.stringify(name)});
    const ms = performance.now() - t0;
    if (typeof answer.isOpen !== 'boolean') process.exit(1);
    process.stdout.write(String(ms));`;
}

function run(script) {
  return Number(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Cold first answers of check-schedule and of the published evaluator, interleaved. */
function coldFirstAnswers(configFile, name, runs = 15) {
  const ours = [];
  const published = [];
  for (let i = 0; i < runs; i++) {
    ours.push(run(oursScript(configFile, name)));
    published.push(run(publishedScript(configFile, name)));
  }
  return { ours: median(ours), published: median(published), oursMin: Math.min(...ours), publishedMin: Math.min(...published) };
}

/** Cold load of a config: fresh process, require the glue, load the config tolerantly, as a container does (the schedules are compiled on their first check: see coldLoadAndCheckMs). */
function coldConfigLoadMs(configFile, runs = 9) {
  const glue = path.join(root, 'functions', 'wasm', 'schedule.private.js');
  const script = `
    const text = require('fs').readFileSync(${JSON.stringify(configFile)}, 'utf8');
    const t0 = performance.now();
    const { ScheduleBook } = require(${JSON.stringify(glue)});
    const book = ScheduleBook.load(text);
    const ms = performance.now() - t0;
    if (book.problems().length !== 0) { console.error(JSON.stringify(book.problems()[0])); process.exit(1); }
    process.stdout.write(String(ms));`;
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(run(script));
  return median(samples);
}

/**
 * Cold load plus the first check of schedule `name`: since `ScheduleBook.load` only reads the
 * document and compiles a schedule on its first check, this is what a container pays before it
 * answers for that schedule.
 */
function coldLoadAndCheckMs(configFile, name, runs = 9) {
  const glue = path.join(root, 'functions', 'wasm', 'schedule.private.js');
  const script = `
    const text = require('fs').readFileSync(${JSON.stringify(configFile)}, 'utf8');
    const t0 = performance.now();
    const { ScheduleBook } = require(${JSON.stringify(glue)});
    const book = ScheduleBook.load(text);
    const answer = book.check(${JSON.stringify(name)}, undefined, Date.now());
    const ms = performance.now() - t0;
    if (answer.status !== 200) { console.error(JSON.stringify(answer)); process.exit(1); }
    process.stdout.write(String(ms));`;
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(run(script));
  return median(samples);
}

module.exports = { coldFirstAnswers, coldConfigLoadMs, coldLoadAndCheckMs };

/**
 * The largest configuration validation accepts, built to cost the most (limits in
 * docs/schedule-manager.md): 250 rules with 90-character names; COUNT rules spanning nearly the
 * 40,000 days a config may (a rare pattern first, so every day of its span is examined); 100
 * schedules, 25 of them listing 100 rules each with distinct start and end times (the most
 * boundaries a day, every rule open, so each decision walks every rule): evaluation weight 2,500
 * in all; 40-character rule ids, so the stored (pretty-printed) document nears 250,000 bytes.
 * Returned as stored by /admin/update, after checking the admin validation accepts it.
 */
function largestConfig() {
  const pad = (n) => String(n).padStart(2, '0');
  const hhmm = (m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
  const id = (tag) => `${tag}-${'0'.repeat(40)}`.slice(0, 40);
  const rules = [];
  const counts = [
    ['c1', 'RRULE:FREQ=DAILY;COUNT=170;BYMONTHDAY=13;BYDAY=FR'],
    ['c2', 'RRULE:FREQ=DAILY;COUNT=3800'],
  ];
  for (const [tag, dateRRule] of counts) {
    rules.push({ id: id(tag), name: `Count rule ${tag}`, isOpen: false, closedReason: 'count', startDate: '2024-01-01', dateRRule });
  }
  const patterns = [
    'RRULE:FREQ=DAILY',
    'RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU',
    'RRULE:FREQ=MONTHLY;BYMONTHDAY=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31',
    'RRULE:FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYDAY=MO,TU,WE,TH,FR,SA,SU',
  ];
  while (rules.length < 250) {
    const i = rules.length;
    const start = (i * 7) % 1380;
    rules.push({
      id: id(`r${i}`),
      name: `Rule ${i} `.padEnd(90, 'x'),
      isOpen: true,
      startTime: hhmm(start),
      endTime: hhmm(start + 30 + (i % 30)),
      dateRRule: patterns[i % patterns.length],
    });
  }
  const schedules = [];
  for (let s = 0; s < 100; s++) {
    const ids = s < 25 ? Array.from({ length: 100 }, (_, k) => rules[2 + ((s * 100 + k) % 248)].id) : [];
    if (s < 2) ids[0] = rules[s].id;
    schedules.push({ name: `Schedule ${s}`, manualClose: false, timeZone: s % 2 ? 'Europe/London' : 'America/New_York', rules: ids });
  }
  const { prepareUpdate } = require(path.join(root, 'functions', 'wasm', 'schedule_admin.private.js'));
  const prepared = prepareUpdate(JSON.stringify({ rules, schedules }));
  if (!prepared.ok) throw new Error(`the bench's largest config is not valid: ${prepared.body.error}`);
  return prepared.config;
}

/** `/admin/preview` of the whole config over 62 days, in a fresh process (module load included). */
function coldPreviewMs(configFile, runs = 3) {
  const glue = path.join(root, 'functions', 'wasm', 'schedule_admin.private.js');
  const script = `
    const text = require('fs').readFileSync(${JSON.stringify(configFile)}, 'utf8');
    const t0 = performance.now();
    const { previewReply } = require(${JSON.stringify(glue)});
    const reply = previewReply(text, undefined, Date.parse('2026-03-01T00:00:00Z'), '62');
    const ms = performance.now() - t0;
    if (reply.status !== 200) { console.error(JSON.stringify(reply.body).slice(0, 500)); process.exit(1); }
    const intervals = reply.body.schedules.reduce((n, s) => n + s.intervals.length, 0);
    process.stdout.write(JSON.stringify({ ms, intervals, truncated: Boolean(reply.body.truncated), bytes: JSON.stringify(reply.body).length }));`;
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 })));
  samples.sort((a, b) => a.ms - b.ms);
  return samples[Math.floor(samples.length / 2)];
}

module.exports.largestConfig = largestConfig;
module.exports.coldPreviewMs = coldPreviewMs;
