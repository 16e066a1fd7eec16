// Studio Flows v2 (studio.twilio.com/v2), what `npm run deploy -- --studio` uses:
//   POST /v2/Flows/Validate          FriendlyName, Status, Definition (JSON), CommitMessage -> {valid: true}
//   POST /v2/Flows                   create (same parameters)        GET /v2/Flows   list
//   GET  /v2/Flows/{FW}              fetch                            POST /v2/Flows/{FW}  update
//   GET  /v2/Flows/{FW}/Revisions[/{n}]
//
// A definition is checked the way Studio documents its flow definition (twilio.com/docs/studio/
// rest-api/v2/flow-definition and the flow-definition JSON schema): an object with `states` (1 to
// 1,000), `initial_state` naming one of them and `flags.allow_concurrent_calls` (boolean); each
// state has a unique `name`, a known widget `type`, `transitions` whose `event` is one that widget
// emits and whose `next`, when given, names an existing state, and the `properties` that widget
// requires. A bad definition is Studio's 400 (code 20001, "Invalid Flow Definition") with
// `details.errors: [{message, property_path}]`; create and update check it the same way.
const WIDGETS = {
  trigger: { events: ['incomingMessage', 'incomingCall', 'incomingConversationMessage', 'incomingRequest', 'incomingParent'], required: [] },
  'say-play': { events: ['audioComplete'], required: [] },
  'gather-input-on-call': { events: ['keypress', 'speech', 'timeout'], required: [] },
  'run-function': { events: ['success', 'fail'], required: ['url'] },
  'split-based-on': { events: ['noMatch', 'match'], required: ['input'] },
  'send-to-flex': { events: ['callComplete', 'failedToEnqueue', 'callFailure'], required: ['workflow', 'channel'] },
  'add-twiml-redirect': { events: ['return', 'timeout', 'fail'], required: ['url'] },
  'set-variables': { events: ['next'], required: [] },
  'make-http-request': { events: ['success', 'failed'], required: ['method', 'url', 'content_type'] },
  'connect-call-to': { events: ['callCompleted', 'hangup'], required: ['noun'] },
  'record-voicemail': { events: ['recordingComplete', 'noAudio', 'hangup'], required: [] },
  'enqueue-call': { events: ['callComplete', 'failedToEnqueue', 'callFailure'], required: [] },
  'send-message': { events: ['sent', 'failed'], required: ['body'] },
};
const SCHEMA = 'https://schemas.twilio.com/studio/draft/2019-09/flow-definition';

/** Every problem of a definition, as `{message, property_path}`; empty when valid. */
function problemsOf(definition) {
  const errors = [];
  const bad = (property_path, message) => errors.push({ message, property_path });
  const isObject = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(definition)) return [{ message: 'the definition must be a JSON object', property_path: '#' }];
  if (definition.$schema !== undefined && definition.$schema !== SCHEMA) bad('#/$schema', `must be ${SCHEMA}`);
  if (definition.description !== undefined && typeof definition.description !== 'string') bad('#/description', 'must be a string');
  if (!isObject(definition.flags) || typeof definition.flags.allow_concurrent_calls !== 'boolean') bad('#/flags/allow_concurrent_calls', 'is required and must be a boolean');
  const states = definition.states;
  if (!Array.isArray(states) || states.length < 1 || states.length > 1000) {
    bad('#/states', 'must be an array of 1 to 1000 states');
    return errors;
  }
  const names = new Set();
  states.forEach((s, i) => {
    if (!isObject(s)) return bad(`#/states/${i}`, 'must be an object');
    if (typeof s.name !== 'string' || !/^[A-Za-z0-9_]{1,100}$/.test(s.name)) bad(`#/states/${i}/name`, 'must be 1 to 100 letters, digits or underscores');
    else if (names.has(s.name)) bad(`#/states/${i}/name`, `duplicate state name ${s.name}`);
    else names.add(s.name);
  });
  if (typeof definition.initial_state !== 'string' || !names.has(definition.initial_state)) bad('#/initial_state', `must name a state (got ${JSON.stringify(definition.initial_state)})`);
  states.forEach((s, i) => {
    if (!isObject(s)) return;
    const widget = WIDGETS[s.type];
    if (!widget) return bad(`#/states/${i}/type`, `unknown widget type ${JSON.stringify(s.type)}`);
    if (!Array.isArray(s.transitions)) return bad(`#/states/${i}/transitions`, 'must be an array');
    s.transitions.forEach((t, j) => {
      const at = `#/states/${i}/transitions/${j}`;
      if (!isObject(t)) return bad(at, 'must be an object');
      if (!widget.events.includes(t.event)) bad(`${at}/event`, `${s.type} has no event ${JSON.stringify(t.event)} (expected one of ${widget.events.join(', ')})`);
      if (t.next !== undefined && t.next !== null && t.next !== '' && !names.has(t.next)) bad(`${at}/next`, `names no state: ${JSON.stringify(t.next)}`);
      if (t.event === 'match' && (!Array.isArray(t.conditions) || !t.conditions.length)) bad(`${at}/conditions`, 'a match transition needs conditions');
    });
    const props = s.properties;
    if (!isObject(props)) return bad(`#/states/${i}/properties`, 'must be an object');
    for (const name of widget.required) if (props[name] === undefined || props[name] === '') bad(`#/states/${i}/properties/${name}`, `${s.type} requires ${name}`);
  });
  return errors;
}

module.exports = {
  name: 'studio',
  problemsOf,

  init: () => ({ flows: new Map() }),

  routes(router, ctx) {
    const { lib, clock } = ctx;
    const { TwilioError, errors } = lib;
    const host = 'https://studio.twilio.com/v2';
    const opts = { product: 'studio' };
    const area = () => ctx.state.studio;

    const checked = (body, { required = true } = {}) => {
      const b = body;
      if (b.Status !== undefined && !['draft', 'published'].includes(b.Status)) throw errors.invalidParam('Status', `${b.Status}; expected draft or published`);
      if (b.Definition === undefined) {
        if (required) throw errors.missingParam('Definition');
        return undefined;
      }
      let definition;
      try {
        definition = typeof b.Definition === 'string' ? JSON.parse(b.Definition) : b.Definition;
      } catch {
        throw new TwilioError(400, 20001, 'Invalid Flow Definition', { details: { errors: [{ message: 'Definition is not JSON', property_path: '#' }] } });
      }
      const problems = problemsOf(definition);
      if (problems.length) throw new TwilioError(400, 20001, 'Invalid Flow Definition', { details: { errors: problems } });
      return definition;
    };
    const view = (f) => ({
      sid: f.sid,
      account_sid: ctx.accountSid,
      friendly_name: f.friendlyName,
      definition: f.definition,
      status: f.status,
      revision: f.revision,
      commit_message: f.commitMessage,
      valid: true,
      errors: [],
      warnings: [],
      date_created: lib.isoDate(f.dateCreated),
      date_updated: lib.isoDate(f.dateUpdated),
      webhook_url: `https://webhooks.twilio.com/v1/Accounts/${ctx.accountSid}/Flows/${f.sid}`,
      url: `${host}/Flows/${f.sid}`,
      links: { test_users: `${host}/Flows/${f.sid}/TestUsers`, revisions: `${host}/Flows/${f.sid}/Revisions`, executions: `${host}/Flows/${f.sid}/Executions` },
    });
    const find = (sid, path) => {
      const f = area().flows.get(sid);
      if (!f) throw errors.notFound(path);
      return f;
    };

    router.post(
      '/v2/Flows/Validate',
      (req) => {
        if (!req.body.FriendlyName) throw errors.missingParam('FriendlyName');
        if (!req.body.Status) throw errors.missingParam('Status');
        checked(req.body);
        return { body: { valid: true } };
      },
      opts,
    );
    router.post(
      '/v2/Flows',
      (req) => {
        if (!req.body.FriendlyName) throw errors.missingParam('FriendlyName');
        if (!req.body.Status) throw errors.missingParam('Status');
        const definition = checked(req.body);
        const now = clock.now();
        const f = {
          sid: lib.newSid('FW'),
          friendlyName: String(req.body.FriendlyName),
          status: req.body.Status,
          definition,
          revision: 1,
          commitMessage: req.body.CommitMessage || null,
          dateCreated: now,
          dateUpdated: now,
          revisions: [],
        };
        f.revisions.push(view(f));
        area().flows.set(f.sid, f);
        return { status: 201, body: view(f) };
      },
      opts,
    );
    router.get('/v2/Flows', (req) => ({ body: lib.page([...area().flows.values()].map(view), { key: 'flows', baseUrl: `${host}/Flows`, query: req.query }) }), opts);
    router.get('/v2/Flows/:flow', (req) => ({ body: view(find(req.params.flow, req.path)) }), opts);
    router.post(
      '/v2/Flows/:flow',
      (req) => {
        const f = find(req.params.flow, req.path);
        if (!req.body.Status) throw errors.missingParam('Status');
        const definition = checked(req.body, { required: false });
        if (definition !== undefined) f.definition = definition;
        if (req.body.FriendlyName !== undefined) f.friendlyName = String(req.body.FriendlyName);
        f.status = req.body.Status;
        f.commitMessage = req.body.CommitMessage || null;
        f.revision += 1;
        f.dateUpdated = clock.now();
        f.revisions.push(view(f));
        return { body: view(f) };
      },
      opts,
    );
    router.delete('/v2/Flows/:flow', (req) => (find(req.params.flow, req.path), area().flows.delete(req.params.flow), { status: 204 }), opts);
    router.get(
      '/v2/Flows/:flow/Revisions',
      (req) => {
        const f = find(req.params.flow, req.path);
        return { body: lib.page([...f.revisions].reverse(), { key: 'revisions', baseUrl: `${host}/Flows/${f.sid}/Revisions`, query: req.query }) };
      },
      opts,
    );
    router.get(
      '/v2/Flows/:flow/Revisions/:revision',
      (req) => {
        const f = find(req.params.flow, req.path);
        const r = f.revisions.find((x) => String(x.revision) === req.params.revision);
        if (!r) throw errors.notFound(req.path);
        return { body: r };
      },
      opts,
    );
  },

  snapshot: (state) => ({
    flows: Object.fromEntries([...state.flows.values()].map((f) => [f.sid, { friendlyName: f.friendlyName, status: f.status, revision: f.revision }])),
  }),
};
