// Signing the Sync access tokens the board pages use (JWT with API_KEY/API_SECRET: no Twilio
// request). Which identity, service and lifetime a token gets is decided by the crates; their
// answer carries `mint: {identity, ttlSeconds, serviceSid}`, which becomes `token` here.
//
//   const { minted } = require(Runtime.getFunctions()['common/access-token'].path);
//   return minted(context, await effects.run(...));
const twilio = require('twilio');
const tw = require(Runtime.getFunctions()['common/client'].path);

/** The answer with its `mint` replaced by the signed `token` (first); other answers unchanged. */
function minted(context, answer) {
  if (!answer || answer.status !== 200 || !answer.body || !answer.body.mint) return answer;
  const { mint, ...body } = answer.body;
  const { region } = tw.regionOptions(context); // the token names the account's Region (TWILIO_REGION)
  const [account, key, secret] = ['ACCOUNT_SID', 'API_KEY', 'API_SECRET'].map((name) => tw.requireEnv(context, name));
  const token = new twilio.jwt.AccessToken(account, key, secret, { identity: mint.identity, ttl: mint.ttlSeconds, ...(region && { region }) });
  token.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: mint.serviceSid }));
  return { ...answer, body: { token: token.toJwt(), ...body } };
}

module.exports = { minted };
