// TaskRouter worker expressions, as the Workers list's `TargetWorkersExpression` takes them
// (twilio-oai: "In addition to fields in the workers' attributes, the expression can include the
// following worker fields: sid, friendly_name, activity_sid, or activity_name").
//
// The subset evaluated: comparisons `field == value`, `field != value`, `field IN [v, …]`,
// `field NOT IN [v, …]` (a field is a dotted path into the attributes, or one of the four worker
// fields; a value is a "string" or 'string', a number, true, false or null), joined with AND / OR
// (AND binds tighter) and grouped with parentheses; `1 == 1` matches every worker. Anything else is
// refused with the error `compile` throws, so a test never passes on an expression the emulator
// only pretended to understand.
const WORKER_FIELDS = new Set(['sid', 'friendly_name', 'activity_sid', 'activity_name']);

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?)(?![\w.])|(==|!=|\(|\)|\[|\]|,)|([A-Za-z_][\w.]*))/y;
  let at = 0;
  const s = String(text);
  while (at < s.length) {
    if (/^\s*$/.test(s.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) throw new Error(`cannot read the expression at ${JSON.stringify(s.slice(at, at + 20))}`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'value', value: m[1].startsWith('"') ? JSON.parse(m[1]) : m[1].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[2] !== undefined) tokens.push({ kind: 'value', value: Number(m[2]) });
    else if (m[3] !== undefined) tokens.push({ kind: m[3] });
    else {
      const word = m[4];
      const upper = word.toUpperCase();
      if (['AND', 'OR', 'IN', 'NOT'].includes(upper)) tokens.push({ kind: upper });
      else if (['true', 'false', 'null'].includes(word.toLowerCase())) tokens.push({ kind: 'value', value: JSON.parse(word.toLowerCase()) });
      else tokens.push({ kind: 'field', path: word });
    }
  }
  return tokens;
}

/** Compiles `expression` to a test of a worker `{sid, friendlyName, activitySid, activityName, attributes (object)}`. */
function compile(expression) {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (kind) => {
    const t = tokens[i];
    if (!t || t.kind !== kind) throw new Error(`expected ${kind} ${t ? `but found ${t.kind}` : 'at the end'}`);
    i += 1;
    return t;
  };
  const operand = () => {
    const t = tokens[i];
    if (!t || (t.kind !== 'value' && t.kind !== 'field')) throw new Error(`expected a field or a value ${t ? `but found ${t.kind}` : 'at the end'}`);
    i += 1;
    return t;
  };
  const list = () => {
    take('[');
    const values = [];
    while (peek() && peek().kind !== ']') {
      values.push(take('value').value);
      if (peek() && peek().kind === ',') i += 1;
    }
    take(']');
    return values;
  };
  const resolve = (t, w) => {
    if (t.kind === 'value') return t.value;
    if (WORKER_FIELDS.has(t.path)) return { sid: w.sid, friendly_name: w.friendlyName, activity_sid: w.activitySid, activity_name: w.activityName }[t.path];
    return t.path.split('.').reduce((v, k) => (v && typeof v === 'object' ? v[k] : undefined), w.attributes);
  };
  const comparison = () => {
    if (peek() && peek().kind === '(') {
      i += 1;
      const inner = disjunction();
      take(')');
      return inner;
    }
    const left = operand();
    const op = peek();
    if (op && (op.kind === 'IN' || op.kind === 'NOT')) {
      i += 1;
      if (op.kind === 'NOT') take('IN');
      const values = list();
      return (w) => values.includes(resolve(left, w)) === (op.kind === 'IN');
    }
    if (!op || (op.kind !== '==' && op.kind !== '!=')) throw new Error(`expected ==, !=, IN or NOT IN ${op ? `but found ${op.kind}` : 'at the end'}`);
    i += 1;
    const right = operand();
    return (w) => (resolve(left, w) === resolve(right, w)) === (op.kind === '==');
  };
  const conjunction = () => {
    const parts = [comparison()];
    while (peek() && peek().kind === 'AND') ((i += 1), parts.push(comparison()));
    return (w) => parts.every((p) => p(w));
  };
  const disjunction = () => {
    const parts = [conjunction()];
    while (peek() && peek().kind === 'OR') ((i += 1), parts.push(conjunction()));
    return (w) => parts.some((p) => p(w));
  };
  if (!tokens.length) throw new Error('the expression is empty');
  const test = disjunction();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i].kind} after the expression`);
  return test;
}

module.exports = { compile };
