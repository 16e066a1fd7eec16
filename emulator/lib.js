// Shared helpers for the emulator's API areas: errors shaped like Twilio's, SIDs, form bodies,
// page envelopes, per-object rate limiting and TTL expiry. Area modules (sync.js, calls.js, ...)
// use only these and the router; nothing here knows about a particular API.
const crypto = require('crypto');

/** A Twilio REST error: `{code, message, more_info, status}` with the HTTP status. */
class TwilioError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }

  toBody() {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
      ...this.extra,
    };
  }
}

const errors = {
  notFound: (path) => new TwilioError(404, 20404, `The requested resource ${path} was not found`),
  invalidParam: (name, detail) => new TwilioError(400, 20001, detail ? `Invalid ${name}: ${detail}` : `Invalid ${name}`),
  missingParam: (name) => new TwilioError(400, 20001, `Missing required parameter ${name} in the post body`),
  unauthenticated: () => new TwilioError(401, 20003, 'Authenticate'),
  rateLimited: (what) => new TwilioError(429, 54009, `Rate limit exceeded for ${what}`),
};

/** `prefix` + 32 lowercase hex digits, like every Twilio SID. */
function newSid(prefix) {
  return prefix + crypto.randomBytes(16).toString('hex');
}

/** A deterministic SID (for seeded objects), so docs and tests can name them. */
function fixedSid(prefix, label) {
  return prefix + crypto.createHash('sha256').update(label).digest('hex').slice(0, 32);
}

const SID_RE = (prefix) => new RegExp(`^${prefix}[0-9a-fA-F]{32}$`);
const isSid = (prefix, value) => typeof value === 'string' && SID_RE(prefix).test(value);

/**
 * Parses a request body the way Twilio does: form-encoded (repeated keys become arrays) or JSON
 * (IAM's token validation is sent as JSON by twilio-flex-token-validator).
 */
function parseBody(raw, contentType = '') {
  // Uploads (multipart) are read by their route from the raw body.
  if (/multipart\/form-data/i.test(contentType)) return {};
  const text = raw.toString('utf8');
  if (!text) return {};
  if (/application\/json/i.test(contentType)) {
    try {
      const value = JSON.parse(text);
      return value && typeof value === 'object' ? value : {};
    } catch {
      throw new TwilioError(400, 20001, 'Invalid JSON body');
    }
  }
  const out = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (key in out) out[key] = [].concat(out[key], value);
    else out[key] = value;
  }
  return out;
}

/** Twilio's date format for REST resources (`date_created` and friends): ISO 8601, seconds. */
const isoDate = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** The 2010-04-01 API's RFC 2822 dates (`Thu, 21 Nov 2024 07:12:00 +0000`). */
const rfc2822 = (ms) => (ms === null || ms === undefined ? null : new Date(ms).toUTCString().replace('GMT', '+0000'));

/**
 * A page of a list resource with the `meta` envelope of the v1 APIs. `baseUrl` is the real
 * Twilio URL of the list (the client follows `next_page_url`, and our helper rewrites its origin);
 * `view` renders a record of the page.
 */
function page(records, { key, baseUrl, query = {}, view = (r) => r }) {
  const pageSize = Math.min(Math.max(parseInt(query.PageSize, 10) || 50, 1), 1000);
  const pageNo = Math.max(parseInt(query.Page, 10) || 0, 0);
  const start = pageNo * pageSize;
  // `view` renders only the page's records (a large map's other items cost nothing).
  const slice = records.slice(start, start + pageSize).map(view);
  // Filters stay in the page links, as Twilio's do.
  const filters = Object.entries(query).filter(([k]) => !['PageSize', 'Page', 'PageToken'].includes(k));
  const url = (n) => `${baseUrl}?${new URLSearchParams([...filters, ['PageSize', String(pageSize)], ['Page', String(n)]])}`;
  return {
    [key]: slice,
    meta: {
      page: pageNo,
      page_size: pageSize,
      first_page_url: url(0),
      previous_page_url: pageNo > 0 ? url(pageNo - 1) : null,
      url: url(pageNo),
      next_page_url: start + pageSize < records.length ? url(pageNo + 1) : null,
      key,
    },
  };
}

/** A clock tests can move forward, so TTLs expire without waiting. */
function createClock() {
  let offset = 0;
  let held = null; // while a test holds the clock: the instant it stands at
  return {
    now: () => (held === null ? Date.now() + offset : held),
    advance(ms) {
      if (held === null) offset += Number(ms) || 0;
      else held += Number(ms) || 0;
      return offset;
    },
    // A test that records steps at exact instants holds the clock meanwhile: with a running clock
    // a millisecond can pass between setting the time and the step reading it (1789.999 s instead
    // of 1790 under load). `release()` lets time run on from where it stands.
    hold(ms) {
      held = Number(ms);
    },
    release() {
      if (held !== null) offset = held - Date.now();
      held = null;
    },
    // Back to the real time, running (what a test does after recording steps in the past).
    resume() {
      held = null;
      offset = 0;
    },
  };
}

/**
 * Sync's write budget per object by payload size. Twilio documents 20 writes/s per object, and
 * that objects above 1 KiB are limited more aggressively, down to 2 writes/s sustained at 10 KiB
 * and above; it does not publish the curve in between. ASSUMPTION (docs/emulator.md): a constant
 * 20 KiB/s per object in between, so a write of `bytes` costs `bytes / 20 KiB` of one second's
 * budget, at least 1/20 (up to 1 KiB) and at most 1/2 (from 10 KiB). Deletes cost 1/20.
 */
function syncWriteCost(bytes = 0) {
  return Math.min(0.5, Math.max(0.05, (Number(bytes) || 0) / 20480));
}

/**
 * Sliding one-second windows per object: `hit(key, what, cost)` throws a 429 (54009) when the
 * costs of the writes in the last second would pass 1 (one second of the object's budget). The
 * default cost is 1/`limit` (20 writes/s). Twilio Sync: items count against their map.
 */
function createRateLimiter(clock, limit = 20, windowMs = 1000) {
  const hits = new Map();
  return {
    limit,
    hit(key, what = key, cost = 1 / limit) {
      const now = clock.now();
      // A test may set the clock back; writes "after" now then belong to no window of it.
      const recent = (hits.get(key) || []).filter((h) => h.at <= now && now - h.at < windowMs);
      const used = recent.reduce((sum, h) => sum + h.cost, 0);
      if (used + cost > 1 + 1e-9) {
        hits.set(key, recent);
        throw errors.rateLimited(what);
      }
      recent.push({ at: now, cost });
      hits.set(key, recent);
    },
    reset: () => hits.clear(),
  };
}

/**
 * TTL in seconds from a form parameter: 0 or absent means "never expires". Returns the absolute
 * expiry in ms (or null), or throws a 400 naming the parameter.
 */
function expiryFrom(form, names, now, current = null) {
  for (const name of names) {
    if (form[name] === undefined) continue;
    const ttl = Number(form[name]);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 31536000) {
      throw errors.invalidParam(name, 'must be an integer number of seconds between 0 and 31536000');
    }
    return ttl === 0 ? null : now + ttl * 1000;
  }
  return current;
}

const expired = (obj, now) => obj && obj.dateExpires !== null && obj.dateExpires !== undefined && obj.dateExpires <= now;

/** Sync's limit on one item's or document's data. */
const SYNC_DATA_MAX_BYTES = 16 * 1024;

/** The size in bytes of a Sync write's data (what the write budget counts). */
const syncDataBytes = (data) => (data === undefined ? 0 : Buffer.byteLength(JSON.stringify(data), 'utf8'));

/** The `Data` parameter of a Sync write: a JSON object of at most 16 KiB, or undefined if absent. */
function parseSyncData(raw) {
  if (raw === undefined) return undefined;
  let data;
  try {
    data = JSON.parse(String(raw));
  } catch {
    throw new TwilioError(400, 54008, 'Invalid Data: must be a JSON object');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new TwilioError(400, 54008, 'Invalid Data: must be a JSON object');
  const size = Buffer.byteLength(JSON.stringify(data), 'utf8');
  if (size > SYNC_DATA_MAX_BYTES) {
    throw new TwilioError(413, 54006, `Request entity too large: Data is ${size} bytes, the limit is ${SYNC_DATA_MAX_BYTES}`);
  }
  return data;
}

module.exports = {
  TwilioError,
  SYNC_DATA_MAX_BYTES,
  parseSyncData,
  errors,
  newSid,
  fixedSid,
  isSid,
  parseBody,
  isoDate,
  rfc2822,
  page,
  createClock,
  createRateLimiter,
  syncWriteCost,
  syncDataBytes,
  expiryFrom,
  expired,
};
