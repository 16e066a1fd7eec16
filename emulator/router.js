// A small router: each API area registers `(method, pattern, handler)`; patterns use `:name`
// segments (`/v1/Services/:service/Maps/:map`). Twilio's products share path prefixes (Sync and
// Serverless both have `/v1/Services`), so a route may name its product (`sync`, `api`, `iam`,
// `taskrouter`, `serverless`...): the request's product is the first label of the Twilio host it
// was meant for (X-Forwarded-Host, set by functions/common/client.private.js), and a request
// without one matches any product.

function compile(pattern) {
  const names = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        // `:call.json`: a parameter followed by a literal suffix.
        const [name, ...suffix] = segment.slice(1).split('.');
        names.push(name);
        return suffix.length ? `([^/]+?)\\.${suffix.join('\\.')}` : '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}$`), names };
}

class Router {
  constructor() {
    this.routes = [];
  }

  /**
   * Registers a handler. Options: `product` (see above); `control: true` for the emulator's own
   * endpoints, which need no Twilio credentials.
   */
  add(method, pattern, handler, { product = null, control = false } = {}) {
    this.routes.push({ method: method.toUpperCase(), pattern, product, control, handler, ...compile(pattern) });
    return this;
  }

  get(pattern, handler, opts) {
    return this.add('GET', pattern, handler, opts);
  }

  post(pattern, handler, opts) {
    return this.add('POST', pattern, handler, opts);
  }

  delete(pattern, handler, opts) {
    return this.add('DELETE', pattern, handler, opts);
  }

  /** `{route, params}` for the first match, `{allowed: [methods]}` if only the method differs, or null. */
  match(method, path, product = null) {
    const allowed = [];
    for (const route of this.routes) {
      if (product && route.product && route.product !== product) continue;
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params = {};
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]);
      });
      return { route, params };
    }
    return allowed.length ? { allowed } : null;
  }
}

/** `sync.twilio.com` -> `sync`; `api.us1.twilio.com` -> `api`; anything else -> null. */
function productOf(host) {
  const m = /^([a-z0-9-]+)\.(?:[a-z0-9-]+\.)*twilio\.com(?::\d+)?$/i.exec(String(host || '').trim());
  return m ? m[1].toLowerCase() : null;
}

module.exports = { Router, productOf };
