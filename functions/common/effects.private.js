// The executor of the effects protocol (docs/effects.md): the one place where a machine's Twilio
// requests are made, each as its effect's `call` (crates/effects) says, within the guarantees there.
//   return effects.run(context, wasmModule('call_handling'), (wasm) => wasm.startPark(request, env, settings, token, Date.now()));
const tw = require(Runtime.getFunctions()['common/client'].path);
const { callWasm, shared } = require(Runtime.getFunctions()['common/wasm'].path);
const { DeadlineError, requestTimeoutMs } = require(Runtime.getFunctions()['common/deadline'].path);

const MAX_STEPS = 200; // a machine ends long before; this only stops a broken one
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let pacers = 0; // each pacer's number in the auth module

/** Writes per object paced (an effect's `pace`) as crates/effects' `Pacer` says; `now`/`sleep`: a simulated clock. */
function createPacer({ now = Date.now, sleep: wait = sleep } = {}) {
  const id = (pacers += 1);
  return async function pace(object, cost) {
    for (let ms; (ms = shared('auth').call((w) => w.paceWait(id, object, cost, now()))) > 0;) await wait(ms);
  };
}
const pace = createPacer(); // one per container: its writes share each object's budget

/** A call on the `twilio` client: `path` read in turn (a text a property, an array a method called with the rest), then `request` with the op's fields `params` names, its field `positional`, or nothing. */
async function clientCall(context, client, op, { path, request, params, positional, as, read }) {
  const at = path.reduce((x, segment) => (typeof segment === 'string' ? x[segment] : x[segment[0]](...segment.slice(1))), as ? tw.twilioClient(context, as) : client);
  const args = positional ? [op[positional]] : params ? [Object.fromEntries(Object.entries(params).map(([name, field]) => [name, op[field]]))] : [];
  const value = await at[request](...args);
  if (read !== 'page') return value;
  return { events: value.instances, next: shared('auth').call((w) => w.nextPage(value.nextPageUrl || null)) };
}

/** A raw request (the client cannot make it): routed like the client's, Basic auth (never in the URL), the deadline's timeout; a failure thrown as the client throws Twilio's errors. */
async function rawCall(context, { host, product, path, method, headers = {}, body, fails, read }) {
  const account = tw.requireEnv(context, 'ACCOUNT_SID');
  const basic = Buffer.from(`${account}:${tw.requireEnv(context, 'AUTH_TOKEN')}`).toString('base64');
  const routed = tw.route(tw.apiOrigin(context), `https://${host || tw.productHost(context, product)}${path.replace('{AccountSid}', account)}`);
  const init = { method, headers: { ...headers, ...routed.headers, Authorization: `Basic ${basic}` }, body };
  const res = await fetch(routed.uri, { ...init, signal: AbortSignal.timeout(requestTimeoutMs()) });
  if (fails ? fails.includes(res.status) : !res.ok) {
    const error = await res.json().catch(() => null); // Twilio's error answer: JSON {code, message, more_info}
    const err = new Error((error && error.message && String(error.message)) || `Twilio answered HTTP ${res.status}`);
    throw Object.assign(err, { status: res.status, code: error && Number.isInteger(error.code) ? error.code : undefined, moreInfo: error && error.more_info });
  }
  if (read === 'status') return { status: res.status, body: await res.json().catch(() => null) };
  if (read === 'media') return { contentType: res.headers.get('content-type'), base64: Buffer.from(await res.arrayBuffer()).toString('base64') };
  return res.json().catch(() => ({}));
}

/** A failed request as the machines read it: Twilio's answer as it came, nothing decided. */
function failure(err) {
  if (err instanceof DeadlineError) return { ok: false, attempted: false, message: err.message };
  const { status, code, moreInfo } = err || {};
  const out = { ok: false, attempted: true, message: (err && err.message) || String(err) };
  return Object.assign(out, Number.isInteger(status) && status >= 100 && status <= 599 && { status }, Number.isInteger(code) && code >= 0 && { code }, typeof moreInfo === 'string' && { moreInfo });
}

/** Performs one effect with `client`; never throws. `opts`: `{pace, retry, text}` (docs/effects.md, "The executor's options"). */
async function perform(context, client, effect, opts = {}) {
  const call = (effect && effect.call) || {};
  if (!call.client && !call.raw) return { ok: false, attempted: false, message: `the effect has no request (${JSON.stringify(effect && effect.op && effect.op.kind)})` };
  try {
    if (effect.delayMs > 0) {
      requestTimeoutMs(Date.now() + effect.delayMs); // no time to send it after the wait: not attempted (504)
      await sleep(effect.delayMs);
    }
    if (effect.pace) await (opts.pace || pace)(effect.pace.object, effect.pace.cost);
    const once = () => (call.raw ? rawCall(context, call.raw) : clientCall(context, client, effect.op, call.client));
    const value = await (effect.retry ? (opts.retry || ((fn) => tw.withRetry(context, fn)))(once) : once());
    if (opts.text) return { ok: true, json: value === undefined ? 'null' : JSON.stringify(value) };
    return { ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) }; // plain JSON
  } catch (err) {
    return failure(err);
  }
}

/** The outcomes of a step as one JSON text (values stringified once, never parsed here). */
const outcomesText = (outcomes) => `[${outcomes.map((o) => (o.json === undefined ? JSON.stringify(o) : `{"ok":true,"value":${o.json}}`)).join(',')}]`;

/** Runs the machine `start` begins on `mod` to its answer `{status, body, contentType?}`; `io`: the resume export's name or the options (docs/effects.md). */
async function run(context, mod, start, io = {}) {
  const opts = typeof io === 'string' ? { resume: io } : io || {};
  let step = callWasm(mod, start); // a request refused at the start throws as callWasm does, before any request
  if (step.run && !opts.retry) tw.retrySettings(context); // a bad TWILIO_SERVICE_* setting is a 500 before any request
  const client = step.run ? opts.client || tw.twilioClient(context) : null;
  const resume = opts.resume || 'resume';
  const now = opts.now || Date.now;
  for (let steps = 0; step.run; steps += 1) {
    if (steps >= MAX_STEPS) throw new Error(`The machine did not answer after ${MAX_STEPS} steps; nothing further was attempted`);
    const { state } = step;
    const outcomes = await Promise.all(step.run.map((effect) => perform(context, client, effect, opts)));
    step = callWasm(mod, (wasm) => wasm[resume](state, opts.text ? outcomesText(outcomes) : outcomes, now()));
  }
  return step.answer;
}

module.exports = { run, perform, createPacer };
