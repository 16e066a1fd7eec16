// JSON responses with CORS for every function: the Flex UI and Studio call these cross-origin.
//
//   exports.handler = handle(async (context, event, request) => ({ status: 200, body: {...} }));
//
// `fn` may answer `{status, body, contentType}` for a non-JSON body (TwiML; a Buffer for binary). A thrown HttpError becomes `{status, body: {error: message, ...extra}}`; anything else is a 500
// with a message (never an HTML page or an empty body). Each invocation runs with a deadline
// (common/deadline) that every Twilio request made during it respects (`handle(fn, { deadline })`
// skips it for an invocation `deadline(context)` says makes no Twilio request).
const { runWithDeadline } = require(Runtime.getFunctions()['common/deadline'].path);

class HttpError extends Error {
  constructor(status, message, extra = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.extra = extra;
  }
}

function jsonResponse(status, body) {
  const response = new Twilio.Response();
  response.setStatusCode(status);
  response.appendHeader('Access-Control-Allow-Origin', '*');
  response.appendHeader('Access-Control-Allow-Methods', 'OPTIONS, GET, POST');
  response.appendHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
  response.appendHeader('Content-Type', 'application/json');
  if (body !== undefined) response.setBody(body);
  return response;
}

/** A non-JSON answer (TwiML for Twilio): `fn` returned `{status, body, contentType}`. */
function textResponse(status, body, contentType) {
  const response = new Twilio.Response();
  response.setStatusCode(status);
  response.appendHeader('Content-Type', contentType);
  response.setBody(Buffer.isBuffer(body) ? body : String(body)); // a Buffer: binary (audio)
  return response;
}

/**
 * `deadline(context)` (default: always) says whether this invocation may make Twilio requests and
 * so runs with a deadline; one that makes none skips it (entering the deadline's
 * AsyncLocalStorage the first time costs a cold container about 0.6 ms: check-schedule).
 */
function handle(fn, { deadline = () => true } = {}) {
  return async function handler(context, event, callback) {
    const request = event.request || {};
    if (String(request.method || '').toUpperCase() === 'OPTIONS') {
      return callback(null, jsonResponse(204));
    }
    try {
      const run = () => fn(context, event, request);
      const { status, body, contentType } = await (deadline(context) ? runWithDeadline(context, run) : run());
      if (contentType) return callback(null, textResponse(status, body, contentType));
      return callback(null, jsonResponse(status, body));
    } catch (err) {
      const status = Number.isInteger(err.status) ? err.status : 500;
      if (status >= 500) console.error(err);
      const body = { error: err.message || String(err), ...(err.extra || {}) };
      return callback(null, jsonResponse(status, body));
    }
  };
}

/** Request fields as the crates take them: strings or undefined (objects as JSON text). */
function formFields(event, names) {
  const out = {};
  for (const name of names) {
    const v = event[name];
    if (v === undefined || v === null) continue;
    out[name] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

module.exports = { handle, HttpError, jsonResponse, formFields };
