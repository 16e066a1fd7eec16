// The voicemail page's credential, handled as the wallboard's (assets/wallboard/credential.js): a
// Flex token is taken once from the URL fragment (`#token=...`, never sent to a server), kept in
// sessionStorage, and the fragment is removed from the address bar at once. Answers the
// Authorization header value, or null. Every request sends it in that header; never in a URL.
window.voicemailCredential = function voicemailCredential() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) sessionStorage.setItem('voicemail.token', fragment.get('token'));
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  const token = sessionStorage.getItem('voicemail.token');
  return token ? `Bearer ${token}` : null;
};
