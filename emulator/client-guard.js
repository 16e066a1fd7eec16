// The other half of the emulator's strictness (docs/emulator.md): twilio-node silently drops a
// parameter an operation does not declare, so a request the emulator sees may lack what the caller
// meant to send. Loaded in a process that talks to the emulator, this names such parameters: the
// functions' client (functions/common/client) hands each client it makes to
// `globalThis.twilioEmulatorGuard`, which compares every call (`update({...})`, `list({...})`…)
// with the request it produced and adds `X-Twilio-Dropped-Params: <names>`; the emulator refuses
// such a request (400). A deployment never loads it: the client is used as it is.
//
// Loaded by `require('./emulator')` (a test or script with the emulator in its own process) and,
// through NODE_OPTIONS `--require`, by the twilio-run that tests and `npm start` run against it.
const { AsyncLocalStorage } = require('async_hooks');

const callParams = new AsyncLocalStorage();
const CALLS = new Set(['fetch', 'create', 'update', 'remove', 'list', 'page', 'each']);
const NOT_SENT = new Set(['limit', 'pageNumber', 'callback', 'done']); // the client's own options
const norm = (name) =>
  String(name)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

/** `value` (a client or one of its resources) whose calls with a parameter object are recorded. */
function watched(value, owner) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || typeof value.then === 'function') return value;
  return new Proxy(value, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      const d = Object.getOwnPropertyDescriptor(target, prop);
      return typeof prop === 'symbol' || (d && !d.configurable && 'value' in d && !d.writable) ? v : watched(v, target);
    },
    apply(target, thisArg, args) {
      const p = args[0];
      const run = () => watched(Reflect.apply(target, owner, args), null);
      return CALLS.has(target.name) && p && typeof p === 'object' && !Array.isArray(p) ? callParams.run({ params: p, checked: false }, run) : run();
    },
  });
}

/** The parameters the current call was given that its first request does not carry, or null. */
function droppedParams(opts) {
  const call = callParams.getStore();
  if (!call || call.checked) return null;
  call.checked = true; // the first request of a call carries its parameters; later pages follow URLs
  const data = opts.data && typeof opts.data === 'object' && !Array.isArray(opts.data) ? opts.data : {};
  const sent = new Set([...Object.keys(opts.params || {}), ...Object.keys(data), ...Object.keys(opts.headers || {}), ...new URL(opts.uri).searchParams.keys()].map(norm));
  const dropped = Object.keys(call.params).filter((k) => call.params[k] !== undefined && !NOT_SENT.has(k) && !sent.has(norm(k)));
  return dropped.length ? dropped.join(',') : null;
}

/** Guards a `twilio` client: its calls are watched, its requests name what was dropped. */
function guard(client) {
  const http = client.httpClient;
  const request = http.request.bind(http);
  http.request = (opts) => {
    const dropped = droppedParams(opts);
    return request(dropped ? { ...opts, headers: { ...(opts.headers || {}), 'X-Twilio-Dropped-Params': dropped } } : opts);
  };
  return watched(client, null);
}

globalThis.twilioEmulatorGuard = guard;

/** NODE_OPTIONS for a process (twilio-run) that talks to the emulator: `options` plus this guard. */
const withGuard = (options = '') => `${options} --require ${JSON.stringify(__filename)}`.trim();

module.exports = { guard, withGuard };
