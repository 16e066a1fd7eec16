// The wallboard pages' credential, shared by the live board and the history view: a wallboard key
// (kept in localStorage: a TV stays signed in) or a Flex token (sessionStorage) is taken once from
// the URL fragment (`#key=...` or `#token=...`, never sent to a server), and the fragment is
// removed from the address bar at once. Answers the Authorization header value, or null.
window.wallboardCredential = function wallboardCredential() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('key')) localStorage.setItem('wallboard.key', fragment.get('key'));
  if (fragment.get('token')) sessionStorage.setItem('wallboard.token', fragment.get('token'));
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  const token = sessionStorage.getItem('wallboard.token');
  const key = localStorage.getItem('wallboard.key');
  return token ? `Bearer ${token}` : key ? `Wallboard ${key}` : null;
};
