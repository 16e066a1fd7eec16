// Staffing benchmark (part of `npm run bench`): one /staffing computation through the wasm
// boundary, at 10, 1,000 and 10,000 Erlangs (AHT 180 s, 80/20). The Erlang B recursion walks one
// step per agent, so the time grows with the agents needed; the figures show it stays far below a
// function invocation's cost even for the largest contact centers.
const path = require('path');

const glue = path.join(__dirname, '..', 'functions', 'wasm', 'staffing.private.js');

function medianUs(fn, n, rounds = 7) {
  for (let i = 0; i < n; i++) fn();
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / n / 1000);
  }
  samples.sort((a, b) => a - b);
  return Number(samples[Math.floor(samples.length / 2)].toFixed(2));
}

function benchStaffing() {
  const { staffing } = require(glue);
  const out = {};
  for (const erlangs of [10, 1000, 10000]) {
    const request = { callsPerInterval: String(erlangs * 10), intervalMinutes: '30', ahtSeconds: '180', thresholdSeconds: '20', target: '0.8' };
    const answer = staffing(request);
    if (Math.abs(answer.intensityErlangs - erlangs) > 1e-6 || !(answer.agents > erlangs)) throw new Error(`bench staffing: unexpected answer ${JSON.stringify(answer)}`);
    out[`staffing_${erlangs}_erlangs_us`] = medianUs(() => staffing(request), erlangs >= 10000 ? 50 : 500);
    out[`staffing_${erlangs}_erlangs_agents`] = answer.agents;
  }
  return out;
}

function formatStaffing(f) {
  return [
    'staffing (Erlang C through the wasm boundary, AHT 180 s, 80/20)',
    ...[10, 1000, 10000].map((e) => `  ${String(e).padStart(6)} Erlangs -> ${String(f[`staffing_${e}_erlangs_agents`]).padStart(6)} agents   ${f[`staffing_${e}_erlangs_us`]} µs`),
  ].join('\n');
}

module.exports = { benchStaffing, formatStaffing };
