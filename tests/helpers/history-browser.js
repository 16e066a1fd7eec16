// The browser launcher for the history view's tests: the wallboard's shared launcher
// (tests/helpers/browser.js) when present, else the same: Debian's chromium driven by
// playwright-core, headless, offline flags, a fresh profile per launch.
const fs = require('fs');
const os = require('os');
const path = require('path');

function fallback() {
  const { chromium } = require('playwright-core');
  const EXECUTABLE = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  async function launchBrowser({ viewport = { width: 1280, height: 800 } } = {}) {
    if (!fs.existsSync(EXECUTABLE)) throw new Error(`${EXECUTABLE} is missing: install Debian's chromium (apt-get install chromium)`);
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: EXECUTABLE, headless: true, args: FLAGS, viewport, acceptDownloads: true });
    const errors = [];
    return {
      context,
      errors,
      async newPage() {
        const page = await context.newPage();
        page.on('pageerror', (err) => errors.push(String(err)));
        return page;
      },
      async close() {
        await context.close().catch(() => {});
        fs.rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  }
  return { launchBrowser };
}

module.exports = fs.existsSync(path.join(__dirname, 'browser.js')) ? require('./browser') : fallback();
