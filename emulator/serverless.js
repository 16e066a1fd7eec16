// The Serverless (Functions and Assets) API, as serverless.twilio.com and serverless-upload.twilio.com
// answer it, for what `npm run deploy` (the Serverless Toolkit's client) and the admin functions use:
//   Services, Environments (+ Variables, Deployments), Functions and Assets (+ Versions), Builds (+ Status)
//   uploads: POST serverless-upload/v1/Services/{ZS}/{Functions|Assets}/{ZH}/Versions, multipart
//            Path, Visibility, Content (the file)
// Builds are `building` for `buildMs` (default 1000 ms, emulator clock), then `completed`, or
// `failed` when a build fault was injected (`emu.serverless.failBuilds(n)`, or POST
// /emulator/serverless/build-faults {times}). A deployment needs a completed build of its service
// and sets the environment's `build_sid`. The emulator seeds one empty service
// (`flex-contact-center`, as .twilioserverlessrc names it) with the `dev` environment, so
// `npm run deploy` and the admin functions find them; their SIDs are SERVICE_SID / ENVIRONMENT_SID.
// Uploaded content is kept: GET /emulator/serverless/asset-versions/{ZN}/content answers it, which
// is how the local runtime serves the deployed config (see functions/common/schedule-config).
const SERVICE_NAME = 'flex-contact-center';
const DEFAULT_RUNTIME = 'node18'; // what Twilio picks when a build names none
const VISIBILITIES = ['public', 'protected', 'private'];

/** `multipart/form-data` fields: {name: {value (string), data (Buffer), filename, contentType}}. */
function parseMultipart(raw, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) return null;
  const boundary = Buffer.from(`--${m[1] || m[2]}`);
  const fields = {};
  let pos = raw.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (raw.slice(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(boundary, start);
    if (next < 0) break;
    const part = raw.slice(start + 2, next - 2); // skip CRLF after the boundary and before the next
    const split = part.indexOf('\r\n\r\n');
    const head = part.slice(0, split).toString('utf8');
    const data = part.slice(split + 4);
    const name = /name="([^"]*)"/i.exec(head);
    if (name) {
      const filename = /filename="([^"]*)"/i.exec(head);
      const type = /content-type:\s*([^\r\n]+)/i.exec(head);
      fields[name[1]] = { value: data.toString('utf8'), data, filename: filename && filename[1], contentType: type && type[1].trim() };
    }
    pos = next;
  }
  return fields;
}

function init(ctx) {
  const { lib, clock, accountSid } = ctx;
  const state = {
    services: new Map(),
    environments: new Map(),
    variables: new Map(),
    functions: new Map(),
    assets: new Map(),
    functionVersions: new Map(),
    assetVersions: new Map(),
    builds: new Map(),
    deployments: new Map(),
    buildMs: 1000,
    buildFaults: 0,
  };
  const now = lib.isoDate(clock.now());
  const service = {
    sid: lib.fixedSid('ZS', `service:${SERVICE_NAME}`),
    account_sid: accountSid,
    unique_name: SERVICE_NAME,
    friendly_name: SERVICE_NAME,
    include_credentials: true,
    ui_editable: false,
    domain_base: `${SERVICE_NAME}-1234`,
    date_created: now,
    date_updated: now,
  };
  state.services.set(service.sid, service);
  const environment = {
    sid: lib.fixedSid('ZE', `environment:${SERVICE_NAME}:dev`),
    account_sid: accountSid,
    service_sid: service.sid,
    build_sid: null,
    unique_name: 'dev-environment',
    domain_suffix: 'dev',
    domain_name: `${service.domain_base}-dev.twil.io`,
    date_created: now,
    date_updated: now,
  };
  state.environments.set(environment.sid, environment);
  ctx.env.SERVICE_SID = service.sid;
  ctx.env.ENVIRONMENT_SID = environment.sid;
  return state;
}

function routes(router, ctx) {
  const { lib, clock, accountSid } = ctx;
  const st = () => ctx.state.serverless;
  const opts = { product: 'serverless' };
  const upload = { product: 'serverless-upload' };
  const base = 'https://serverless.twilio.com/v1';
  const stamp = () => lib.isoDate(clock.now());
  const list = (records, key, url, query) => ({ body: lib.page(records, { key, baseUrl: `${base}${url}`, query }) });
  const notFound = (path) => lib.errors.notFound(path);

  function service(req) {
    const key = req.params.service;
    const found = st().services.get(key) || [...st().services.values()].find((s) => s.unique_name === key);
    if (!found) throw notFound(req.path);
    return found;
  }
  const owned = (map, sid, svc, req) => {
    const found = map.get(sid);
    if (!found || found.service_sid !== svc.sid) throw notFound(req.path);
    return found;
  };
  const withUrl = (record, path) => ({ ...record, url: `${base}${path}` });
  const buildStatus = (build) => {
    if (build.final) return build.final;
    if (clock.now() < build.readyAt) return 'building';
    build.final = build.fails ? 'failed' : 'completed';
    build.date_updated = lib.isoDate(build.readyAt);
    return build.final;
  };
  const buildBody = (b) => {
    const { readyAt, fails, final, ...rest } = b;
    return withUrl({ ...rest, status: buildStatus(b) }, `/Services/${b.service_sid}/Builds/${b.sid}`);
  };
  const versionBody = ({ content, ...v }) => v;

  // Services
  router.get('/v1/Services', (req) => list([...st().services.values()], 'services', '/Services', req.query), opts);
  router.post(
    '/v1/Services',
    (req) => {
      const name = req.body.UniqueName;
      if (!name) throw lib.errors.missingParam('UniqueName');
      if ([...st().services.values()].some((s) => s.unique_name === name)) {
        throw new lib.TwilioError(409, 20409, `Service with UniqueName ${name} already exists`);
      }
      const t = stamp();
      const svc = {
        sid: lib.newSid('ZS'),
        account_sid: accountSid,
        unique_name: name,
        friendly_name: req.body.FriendlyName || name,
        include_credentials: String(req.body.IncludeCredentials) !== 'false',
        ui_editable: String(req.body.UiEditable) === 'true',
        domain_base: `${name}-${1000 + st().services.size}`,
        date_created: t,
        date_updated: t,
      };
      st().services.set(svc.sid, svc);
      return { status: 201, body: withUrl(svc, `/Services/${svc.sid}`) };
    },
    opts,
  );
  router.get('/v1/Services/:service', (req) => ({ body: withUrl(service(req), `/Services/${service(req).sid}`) }), opts);

  // Environments, their variables and deployments
  router.get(
    '/v1/Services/:service/Environments',
    (req) => {
      const svc = service(req);
      return list(
        [...st().environments.values()].filter((e) => e.service_sid === svc.sid),
        'environments',
        `/Services/${svc.sid}/Environments`,
        req.query,
      );
    },
    opts,
  );
  router.post(
    '/v1/Services/:service/Environments',
    (req) => {
      const svc = service(req);
      const name = req.body.UniqueName;
      if (!name) throw lib.errors.missingParam('UniqueName');
      const suffix = req.body.DomainSuffix || null;
      const t = stamp();
      const env = {
        sid: lib.newSid('ZE'),
        account_sid: accountSid,
        service_sid: svc.sid,
        build_sid: null,
        unique_name: name,
        domain_suffix: suffix,
        domain_name: `${svc.domain_base}${suffix ? `-${suffix}` : ''}.twil.io`,
        date_created: t,
        date_updated: t,
      };
      st().environments.set(env.sid, env);
      return { status: 201, body: withUrl(env, `/Services/${svc.sid}/Environments/${env.sid}`) };
    },
    opts,
  );
  router.get(
    '/v1/Services/:service/Environments/:env',
    (req) => {
      const env = owned(st().environments, req.params.env, service(req), req);
      return { body: withUrl(env, `/Services/${env.service_sid}/Environments/${env.sid}`) };
    },
    opts,
  );

  router.get(
    '/v1/Services/:service/Environments/:env/Variables',
    (req) => {
      const env = owned(st().environments, req.params.env, service(req), req);
      const vars = [...st().variables.values()].filter((v) => v.environment_sid === env.sid);
      return list(vars, 'variables', `/Services/${env.service_sid}/Environments/${env.sid}/Variables`, req.query);
    },
    opts,
  );
  router.post(
    '/v1/Services/:service/Environments/:env/Variables',
    (req) => {
      const env = owned(st().environments, req.params.env, service(req), req);
      if (!req.body.Key) throw lib.errors.missingParam('Key');
      const t = stamp();
      const v = {
        sid: lib.newSid('ZV'),
        account_sid: accountSid,
        service_sid: env.service_sid,
        environment_sid: env.sid,
        key: req.body.Key,
        value: String(req.body.Value ?? ''),
        date_created: t,
        date_updated: t,
      };
      st().variables.set(v.sid, v);
      return { status: 201, body: v };
    },
    opts,
  );
  router.post(
    '/v1/Services/:service/Environments/:env/Variables/:variable',
    (req) => {
      const v = owned(st().variables, req.params.variable, service(req), req);
      if (req.body.Key !== undefined) v.key = req.body.Key;
      if (req.body.Value !== undefined) v.value = String(req.body.Value);
      v.date_updated = stamp();
      return { body: v };
    },
    opts,
  );
  router.delete(
    '/v1/Services/:service/Environments/:env/Variables/:variable',
    (req) => {
      owned(st().variables, req.params.variable, service(req), req);
      st().variables.delete(req.params.variable);
      return { status: 204 };
    },
    opts,
  );

  router.get(
    '/v1/Services/:service/Environments/:env/Deployments',
    (req) => {
      const env = owned(st().environments, req.params.env, service(req), req);
      const deps = [...st().deployments.values()].filter((d) => d.environment_sid === env.sid).reverse();
      return list(deps, 'deployments', `/Services/${env.service_sid}/Environments/${env.sid}/Deployments`, req.query);
    },
    opts,
  );
  router.post(
    '/v1/Services/:service/Environments/:env/Deployments',
    (req) => {
      const svc = service(req);
      const env = owned(st().environments, req.params.env, svc, req);
      const build = req.body.BuildSid ? st().builds.get(req.body.BuildSid) : null;
      if (req.body.BuildSid && (!build || build.service_sid !== svc.sid)) {
        throw new lib.TwilioError(404, 20404, `The requested resource /Services/${svc.sid}/Builds/${req.body.BuildSid} was not found`);
      }
      if (build && buildStatus(build) !== 'completed') {
        throw new lib.TwilioError(400, 20001, `Build ${build.sid} is ${buildStatus(build)}; only a completed build can be deployed`);
      }
      const t = stamp();
      const dep = { sid: lib.newSid('ZD'), account_sid: accountSid, service_sid: svc.sid, environment_sid: env.sid, build_sid: build ? build.sid : null, date_created: t, date_updated: t };
      st().deployments.set(dep.sid, dep);
      env.build_sid = dep.build_sid;
      env.date_updated = t;
      return { status: 201, body: withUrl(dep, `/Services/${svc.sid}/Environments/${env.sid}/Deployments/${dep.sid}`) };
    },
    opts,
  );

  // Functions and Assets, their versions, and uploads
  for (const [kind, prefix, versionPrefix, key] of [
    ['Functions', 'ZH', 'ZN', 'functions'],
    ['Assets', 'ZH', 'ZN', 'assets'],
  ]) {
    const resources = () => st()[key];
    const versions = () => (kind === 'Functions' ? st().functionVersions : st().assetVersions);
    const parentField = kind === 'Functions' ? 'function_sid' : 'asset_sid';
    router.get(
      `/v1/Services/:service/${kind}`,
      (req) => {
        const svc = service(req);
        return list(
          [...resources().values()].filter((r) => r.service_sid === svc.sid),
          key,
          `/Services/${svc.sid}/${kind}`,
          req.query,
        );
      },
      opts,
    );
    router.post(
      `/v1/Services/:service/${kind}`,
      (req) => {
        const svc = service(req);
        if (!req.body.FriendlyName) throw lib.errors.missingParam('FriendlyName');
        const t = stamp();
        const r = { sid: lib.newSid(prefix), account_sid: accountSid, service_sid: svc.sid, friendly_name: req.body.FriendlyName, date_created: t, date_updated: t };
        resources().set(r.sid, r);
        return { status: 201, body: withUrl(r, `/Services/${svc.sid}/${kind}/${r.sid}`) };
      },
      opts,
    );
    router.get(
      `/v1/Services/:service/${kind}/:resource/Versions`,
      (req) => {
        const svc = service(req);
        const r = owned(resources(), req.params.resource, svc, req);
        const vs = [...versions().values()].filter((v) => v[parentField] === r.sid).map(versionBody);
        return list(vs, `${kind === 'Functions' ? 'function' : 'asset'}_versions`, `/Services/${svc.sid}/${kind}/${r.sid}/Versions`, req.query);
      },
      opts,
    );
    router.get(
      `/v1/Services/:service/${kind}/:resource/Versions/:version`,
      (req) => {
        const v = owned(versions(), req.params.version, service(req), req);
        if (v[parentField] !== req.params.resource) throw notFound(req.path);
        return { body: versionBody(v) };
      },
      opts,
    );
    router.post(
      `/v1/Services/:service/${kind}/:resource/Versions`,
      (req) => {
        const svc = service(req);
        const r = owned(resources(), req.params.resource, svc, req);
        const fields = parseMultipart(req.raw, req.headers['content-type']);
        if (!fields) throw new lib.TwilioError(400, 20001, 'Uploads must be multipart/form-data with Path, Visibility and Content');
        for (const name of ['Path', 'Visibility', 'Content']) if (!fields[name]) throw lib.errors.missingParam(name);
        const visibility = fields.Visibility.value;
        if (!VISIBILITIES.includes(visibility)) throw lib.errors.invalidParam('Visibility', `must be one of ${VISIBILITIES.join(', ')}`);
        const t = stamp();
        const v = {
          sid: lib.newSid(versionPrefix),
          account_sid: accountSid,
          service_sid: svc.sid,
          [parentField]: r.sid,
          path: fields.Path.value,
          visibility,
          date_created: t,
          url: `${base}/Services/${svc.sid}/${kind}/${r.sid}/Versions`,
          content: fields.Content.data,
        };
        versions().set(v.sid, v);
        return { status: 201, body: versionBody(v) };
      },
      upload,
    );
  }
  router.get(
    '/v1/Services/:service/Functions/:resource/Versions/:version/Content',
    (req) => {
      const v = owned(st().functionVersions, req.params.version, service(req), req);
      return { body: { sid: v.sid, account_sid: accountSid, service_sid: v.service_sid, function_sid: v.function_sid, content: v.content.toString('utf8') } };
    },
    opts,
  );

  // Builds
  router.get(
    '/v1/Services/:service/Builds',
    (req) => {
      const svc = service(req);
      const builds = [...st().builds.values()]
        .filter((b) => b.service_sid === svc.sid)
        .reverse()
        .map(buildBody);
      return list(builds, 'builds', `/Services/${svc.sid}/Builds`, req.query);
    },
    opts,
  );
  router.post(
    '/v1/Services/:service/Builds',
    (req) => {
      const svc = service(req);
      const sids = (name) => [].concat(req.body[name] || []).map(String);
      const pick = (map, sid, name) => {
        const v = map.get(sid);
        if (!v || v.service_sid !== svc.sid) throw lib.errors.invalidParam(name, `${sid} is not a version of this service`);
        return versionBody(v);
      };
      const functionVersions = sids('FunctionVersions').map((sid) => pick(st().functionVersions, sid, 'FunctionVersions'));
      const assetVersions = sids('AssetVersions').map((sid) => pick(st().assetVersions, sid, 'AssetVersions'));
      let dependencies = [];
      if (req.body.Dependencies !== undefined) {
        // The Serverless Toolkit wraps the JSON in one extra pair of quotes; Twilio accepts both.
        const text = String(req.body.Dependencies).replace(/^"(\[.*\])"$/s, '$1');
        try {
          dependencies = JSON.parse(text);
        } catch {
          throw lib.errors.invalidParam('Dependencies', 'must be a JSON array of {name, version}');
        }
        if (!Array.isArray(dependencies)) throw lib.errors.invalidParam('Dependencies', 'must be a JSON array of {name, version}');
      }
      const t = clock.now();
      const build = {
        sid: lib.newSid('ZB'),
        account_sid: accountSid,
        service_sid: svc.sid,
        asset_versions: assetVersions,
        function_versions: functionVersions,
        dependencies,
        runtime: req.body.Runtime || DEFAULT_RUNTIME,
        date_created: lib.isoDate(t),
        date_updated: lib.isoDate(t),
        readyAt: t + st().buildMs,
        fails: st().buildFaults > 0,
        final: null,
      };
      if (st().buildFaults > 0) st().buildFaults -= 1;
      st().builds.set(build.sid, build);
      return { status: 201, body: buildBody(build) };
    },
    opts,
  );
  router.get('/v1/Services/:service/Builds/:build', (req) => ({ body: buildBody(owned(st().builds, req.params.build, service(req), req)) }), opts);
  router.get(
    '/v1/Services/:service/Builds/:build/Status',
    (req) => {
      const b = owned(st().builds, req.params.build, service(req), req);
      return { body: { sid: b.sid, account_sid: accountSid, service_sid: b.service_sid, status: buildStatus(b), url: `${base}/Services/${b.service_sid}/Builds/${b.sid}/Status` } };
    },
    opts,
  );
  router.delete(
    '/v1/Services/:service/Builds/:build',
    (req) => {
      const b = owned(st().builds, req.params.build, service(req), req);
      if ([...st().environments.values()].some((e) => e.build_sid === b.sid)) {
        throw new lib.TwilioError(409, 20409, `Build ${b.sid} is deployed and cannot be deleted`);
      }
      st().builds.delete(b.sid);
      return { status: 204 };
    },
    opts,
  );

  // The emulator's own: build faults and timing, and uploaded content (what the runtime serves).
  router.post(
    '/emulator/serverless/build-faults',
    (req) => {
      st().buildFaults += Math.max(1, Number(req.body.times) || 1);
      if (req.body.buildMs !== undefined) st().buildMs = Number(req.body.buildMs);
      return { status: 201, body: { buildFaults: st().buildFaults, buildMs: st().buildMs } };
    },
    { control: true },
  );
  router.get(
    '/emulator/serverless/asset-versions/:version/content',
    (req) => {
      const v = st().assetVersions.get(req.params.version);
      if (!v) throw notFound(req.path);
      return { body: v.content.toString('utf8') };
    },
    { control: true },
  );
}

module.exports = {
  name: 'serverless',
  init,
  routes,
  parseMultipart,
  snapshot: (state) => ({
    services: [...state.services.values()],
    environments: [...state.environments.values()],
    functions: [...state.functions.values()],
    assets: [...state.assets.values()],
    functionVersions: [...state.functionVersions.values()].map(({ content, ...v }) => ({ ...v, bytes: content.length })),
    assetVersions: [...state.assetVersions.values()].map(({ content, ...v }) => ({ ...v, bytes: content.length })),
    builds: [...state.builds.values()].map(({ readyAt, fails, final, ...b }) => ({ ...b, status: final || 'building' })),
    deployments: [...state.deployments.values()],
    variables: [...state.variables.values()].map((v) => ({ key: v.key, environment_sid: v.environment_sid })),
    buildFaults: state.buildFaults,
    buildMs: state.buildMs,
  }),
};
