// Flex token validation as iam.twilio.com answers it:
//   POST /v1/Accounts/{AC}/Tokens/validate   body {"token": "..."} (JSON, as twilio-flex-token-validator sends it; form works too)
// Tokens are made by the emulator (POST /emulator/tokens, or `emulator.makeToken()`), since real
// Flex tokens are signed by Twilio. Unknown or expired tokens answer `valid: false` like IAM does.
const crypto = require('crypto');

function makeToken(ctx, { identity = 'agent@example.com', roles = ['agent'], workerSid = null, ttl = 3600 } = {}) {
  const { lib, clock, state } = ctx;
  const token = `emulator-flex-token.${crypto.randomBytes(18).toString('base64url')}`;
  const record = {
    identity,
    roles: [].concat(roles).filter(Boolean),
    workerSid: workerSid || lib.fixedSid('WK', `worker:${identity}`),
    realmUserId: lib.fixedSid('US', `user:${identity}`),
    expiresAt: clock.now() + Number(ttl) * 1000,
  };
  state.iam.tokens.set(token, record);
  // The token's worker exists in the seeded workspace, so worker-capacity works with it.
  if (state.taskrouter) require('./taskrouter').ensureWorker(ctx, record.workerSid, identity);
  return { token, identity, roles: record.roles, worker_sid: record.workerSid, expiration: lib.isoDate(record.expiresAt) };
}

module.exports = {
  name: 'iam',
  makeToken,

  init: () => ({ tokens: new Map() }),

  routes(router, ctx) {
    const { lib, clock } = ctx;

    router.post(
      '/v1/Accounts/:account/Tokens/validate',
      (req) => {
        const token = req.body.token || req.body.Token;
        const record = token ? ctx.state.iam.tokens.get(String(token)) : null;
        const now = clock.now();
        if (!record || record.expiresAt <= now) {
          const message = !token ? 'Token is required' : record ? 'Access Token expired' : 'Invalid Access Token';
          const code = !token ? 20001 : record ? 20104 : 20101;
          return {
            status: 200,
            body: { code, valid: false, message, identity: null, worker_sid: null, roles: null, realm_user_roles: null, realm_user_id: null, expiration: null },
          };
        }
        return {
          body: {
            code: 0,
            valid: true,
            message: null,
            identity: record.identity,
            worker_sid: record.workerSid,
            roles: record.roles,
            realm_user_roles: record.roles,
            realm_user_id: record.realmUserId,
            expiration: lib.isoDate(record.expiresAt),
          },
        };
      },
      { product: 'iam' },
    );

    // The emulator's token mint: form or JSON {identity, roles (repeat or comma list), workerSid, ttl}.
    router.post(
      '/emulator/tokens',
      (req) => {
        const b = req.body;
        const roles =
          b.roles === undefined
            ? undefined
            : []
                .concat(b.roles)
                .flatMap((r) => String(r).split(','))
                .map((r) => r.trim());
        return { status: 201, body: makeToken(ctx, { identity: b.identity, roles, workerSid: b.workerSid, ttl: b.ttl === undefined ? 3600 : b.ttl }) };
      },
      { control: true },
    );
  },

  snapshot: (state) => ({
    tokens: [...state.tokens.entries()].map(([token, r]) => ({ token, identity: r.identity, roles: r.roles, workerSid: r.workerSid, expiresAt: new Date(r.expiresAt).toISOString() })),
  }),
};
