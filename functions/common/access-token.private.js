// Signs the Sync access token a crate's answer asks for (`mint: {identity, ttlSeconds,
// serviceSid}`, decided in Rust) with API_KEY/API_SECRET: a JWT, no Twilio request.
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
