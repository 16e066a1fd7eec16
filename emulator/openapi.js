// The emulator's contract: every request to a Twilio API is checked against Twilio's published
// OpenAPI definitions (twilio-oai) before an area module sees it. The definitions are the compact
// extract in twilio-oai.json (regenerate with scripts/extract-twilio-oai.js; its `source.commit`
// names the twilio-oai commit). A request is refused with 400 and Twilio's error shape when:
//   - its path is not declared by the product it was meant for (X-Forwarded-Host), or not at all;
//   - its method is not declared on that path;
//   - it carries a query parameter or a form field the operation does not declare;
//   - an integer parameter is not an integer, or is outside the declared minimum/maximum
//     (PageSize: 100 for Sync lists, 1000 elsewhere);
//   - a required form field is missing.
// twilio-node silently drops a parameter an operation does not declare, so without this layer a
// test against the emulator proves nothing about what Twilio would do.
//
// Calls Twilio makes public but twilio-oai does not define are EXCEPTIONS below, each with the
// source of its shape. The emulator's own endpoints (`control` routes: /emulator/*, the state at
// /, the Sync live-update stand-in) are not Twilio's API and are not checked.
const EXTRACT = require('./twilio-oai.json');

const EXCEPTIONS = [
  {
    product: 'iam',
    method: 'POST',
    path: '/v1/Accounts/{AccountSid}/Tokens/validate',
    encoding: 'json',
    form: [{ name: 'token', type: 'string', required: true }],
    source:
      'Flex token validation; not in twilio-oai (spec/json/twilio_iam_v1.json has no Tokens/validate). Shape from twilio/twilio-flex-token-validator src/index.ts: POST https://iam.twilio.com/v1/Accounts/{AccountSid}/Tokens/validate, JSON body {"token": ...}, Basic auth.',
  },
  ...['Functions', 'Assets'].map((kind) => ({
    product: 'serverless-upload',
    method: 'POST',
    path: `/v1/Services/{ServiceSid}/${kind}/{Sid}/Versions`,
    encoding: 'multipart',
    form: [],
    source: `${kind.slice(0, -1)} Version upload; twilio-oai declares only GET on this path. Shape from @twilio-labs/serverless-api dist/api/${kind.toLowerCase()}.js: POST https://serverless-upload.twilio.com/v1/Services/{ServiceSid}/${kind}/{Sid}/Versions, multipart form Path, Visibility, Content.`,
  })),
  ...['wav', 'mp3'].map((ext) => ({
    product: 'api',
    method: 'GET',
    path: `/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.${ext}`,
    form: [],
    source: `A recording's media; not a path in twilio-oai, whose Recording resource (spec/json/twilio_api_v2010.json, api.v2010.account.recording) gives it as \`media_url\` ("The URL of the media file associated with this recording resource"). Twilio's Recording docs: the media is fetched by appending .${ext} to it (GET, with the account's credentials when media authentication is on).`,
  })),
];

function compile(template) {
  const source = template
    .split('/')
    .map((segment) =>
      segment
        .split(/(\{[A-Za-z]+\})/)
        .map((part) => (/^\{[A-Za-z]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join(''),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Every declared path: {product, template, regex, methods: {GET: {id, query, form, encoding}}}. */
function buildIndex(extract = EXTRACT, exceptions = EXCEPTIONS) {
  const entries = [];
  for (const [file, spec] of Object.entries(extract.products)) {
    for (const [template, item] of Object.entries(spec.paths)) {
      entries.push({ product: item.host.split('.')[0], template, regex: compile(template), methods: item.methods, file });
    }
  }
  for (const ex of exceptions) {
    let entry = entries.find((e) => e.product === ex.product && e.template === ex.path);
    if (!entry) {
      entry = { product: ex.product, template: ex.path, regex: compile(ex.path), methods: {}, file: 'exception' };
      entries.push(entry);
    }
    entry.methods = { ...entry.methods, [ex.method]: { id: `exception: ${ex.source}`, form: ex.form, encoding: ex.encoding, exception: true } };
  }
  return entries;
}

const INDEX = buildIndex();

const INTEGER = /^-?\d+$/;

function checkValue(where, p, value) {
  const values = Array.isArray(value) ? value : [value];
  if (values.length > 1 && p.type !== 'array') return `${where} parameter ${p.name} is given ${values.length} times; it takes one value`;
  const itemType = p.type === 'array' ? p.items : p.type;
  for (const v of values) {
    if (itemType === 'integer' || itemType === 'number') {
      const s = String(v).trim();
      const n = Number(s);
      if (s === '' || !Number.isFinite(n) || (itemType === 'integer' && !INTEGER.test(s)))
        return `${where} parameter ${p.name} must be ${itemType === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`;
      if (p.maximum !== undefined && n > p.maximum) return `${where} parameter ${p.name} is ${n}, above its maximum ${p.maximum}`;
      if (p.minimum !== undefined && n < p.minimum) return `${where} parameter ${p.name} is ${n}, below its minimum ${p.minimum}`;
    }
  }
  return null;
}

function checkParams(where, declared = [], given = {}, { required = false } = {}) {
  const byName = new Map(declared.map((p) => [p.name, p]));
  for (const [name, value] of Object.entries(given)) {
    const p = byName.get(name);
    if (!p) {
      const known = declared.map((d) => d.name);
      return `${where} parameter ${name} is not declared for this operation${known.length ? ` (declared: ${known.join(', ')})` : ' (it declares none)'}`;
    }
    const problem = checkValue(where, p, value);
    if (problem) return problem;
  }
  if (required) {
    for (const p of declared) if (p.required && (given[p.name] === undefined || given[p.name] === '')) return `Missing required ${where} parameter ${p.name}`;
  }
  return null;
}

/**
 * The operation a request names, or why none: `{operation, template, product}` or `{problem}`.
 * `product` is the first label of the host the request was meant for (null: any product).
 */
function findOperation(method, path, product, index = INDEX) {
  const candidates = index.filter((e) => (!product || e.product === product) && e.regex.test(path));
  if (!candidates.length) {
    return {
      problem: `${method} ${product ? `${product}.twilio.com` : ''}${path}: no such path in Twilio's API definitions (twilio-oai ${EXTRACT.source.commit.slice(0, 12)}, emulator/twilio-oai.json)`,
    };
  }
  // Within a product a literal segment beats a parameter, as Twilio routes it
  // (Workers/CumulativeStatistics, not Workers/{Sid}); without a host, any product may match.
  const literal = (e) => e.template.split('/').filter((s) => s && !s.includes('{')).length;
  const best = new Map();
  for (const e of candidates) {
    const cur = best.get(e.product);
    if (!cur || literal(e) > literal(cur)) best.set(e.product, e);
  }
  const routed = [...best.values()];
  const withMethod = routed.filter((e) => e.methods[method]);
  if (!withMethod.length) {
    const allowed = [...new Set(routed.flatMap((e) => Object.keys(e.methods)))];
    return { problem: `${method} ${routed[0].template}: method not declared (declared: ${allowed.join(', ')})` };
  }
  return { candidates: withMethod };
}

/**
 * Checks one request. Returns null when Twilio's definitions allow it, or `{status: 400, code,
 * message, operation}` naming what is not declared.
 */
function validate({ method, path, product = null, query = {}, body = {}, contentType = '', dropped = '' }, index = INDEX) {
  const found = findOperation(method, path, product, index);
  if (found.problem) return { status: 400, code: 20001, message: found.problem, operation: null };
  if (dropped) {
    // functions/common/client.private.js names the parameters twilio-node was given but did not send.
    const op = found.candidates[0];
    return {
      status: 400,
      code: 20001,
      message: `${method} ${op.template}: the twilio client was given ${dropped}, which this operation does not declare (twilio-node drops it silently; Twilio never sees it)`,
      operation: op.methods[method].id,
    };
  }
  let first = null;
  for (const entry of found.candidates) {
    const op = entry.methods[method];
    const multipart = /multipart\/form-data/i.test(contentType || '');
    let problem = checkParams('query', op.query, query);
    // A JSON body whose schema names no properties (TaskQueues/RealTimeStatistics: a JSON array of
    // queue SIDs, per Twilio's docs) is not described by the definitions: its area checks it.
    const freeJson = op.encoding === 'json' && !(op.form && op.form.length);
    if (!problem && op.encoding !== 'multipart' && !freeJson) {
      const form = multipart ? {} : body || {};
      problem = method === 'GET' || method === 'DELETE' ? checkParams('form', [], form) : checkParams('form', op.form, form, { required: true });
    }
    if (!problem) return null;
    if (!first) first = { status: 400, code: 20001, message: `${method} ${entry.template}: ${problem}`, operation: op.id };
  }
  return first;
}

module.exports = { validate, findOperation, buildIndex, EXCEPTIONS, EXTRACT, INDEX };
