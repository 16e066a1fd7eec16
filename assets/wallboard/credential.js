// Shared by the wallboard pages. The credential (live board, agents view, history views): a wallboard key
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

// The live pages' Sync client (queues board, agents view): Twilio's SDK, or the local emulator's
// stand-in when the token came from the emulator (loaded from it on first use).
window.wallboardSyncClient = async function wallboardSyncClient(info) {
  if (info.emulatorOrigin) {
    if (!window.EmulatorSync) {
      await new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = `${info.emulatorOrigin}/emulator/sync/client.js`;
        s.onload = resolve;
        s.onerror = () => reject(new Error(`could not load ${s.src}`));
        document.head.appendChild(s);
      });
    }
    return new window.EmulatorSync.Client(info.token, { origin: info.emulatorOrigin });
  }
  return new window.Twilio.Sync.Client(info.token);
};
