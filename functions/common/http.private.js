// Every function's HTTP answer: JSON with CORS (Flex and Studio call cross-origin), or the text
// (TwiML) or bytes (`base64`) of `{status, body, contentType}`; a `warning` is logged.
//   exports.handler = handle(async (context, event, request) => ({ status: 200, body: {...} }));
// A thrown error with a `status` (HttpError, a crate's through callWasm) answers it with `{error,
// ...extra}`; anything else is a 500, never an HTML page. Each invocation runs with a deadline
// (common/deadline) unless `deadline(context)` says it makes no request (check-schedule's 0.6 ms).
const { runWithDeadline } = require(Runtime.getFunctions()['common/deadline'].path);

class HttpError extends Error {
  constructor(status, message, extra = {}) {
    super(message);
    Object.assign(this, { name: 'HttpError', status, extra });
  }
}

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'OPTIONS, GET, POST', 'Access-Control-Allow-Headers': 'Content-Type, Authorization' };

/** JSON with CORS, or (`contentType` given) a text body: a Buffer stays binary. */
function response(status, body, contentType) {
  const out = new Twilio.Response();
  out.setStatusCode(status);
  const headers = contentType ? { 'Content-Type': contentType } : { ...CORS, 'Content-Type': 'application/json' };
  for (const [name, value] of Object.entries(headers)) out.appendHeader(name, value);
  if (body !== undefined) out.setBody(!contentType || Buffer.isBuffer(body) ? body : String(body));
  return out;
}

function handle(fn, { deadline = () => true } = {}) {
  return async function handler(context, event, callback) {
    const request = event.request || {};
    if (String(request.method || '').toUpperCase() === 'OPTIONS') return callback(null, response(204));
    try {
      const run = () => fn(context, event, request);
      const { status, body, contentType, base64, warning } = await (deadline(context) ? runWithDeadline(context, run) : run());
      if (warning) console.error(warning);
      return callback(null, response(status, base64 ? Buffer.from(body, 'base64') : body, contentType));
    } catch (err) {
      const status = Number.isInteger(err.status) ? err.status : 500;
      if (err.log) console.error(err.log); // a line a crate wrote for the operator (callWasm)
      if (status >= 500) console.error(err);
      return callback(null, response(status, { error: err.message || String(err), ...(err.extra || {}) }));
    }
  };
}

/** Request fields as the crates take them: strings, objects as JSON text; unset ones left out. */
function formFields(event, names) {
  const set = names.filter((name) => event[name] !== undefined && event[name] !== null);
  return Object.fromEntries(set.map((name) => [name, typeof event[name] === 'object' ? JSON.stringify(event[name]) : String(event[name])]));
}

module.exports = { handle, HttpError, formFields };
