// Headless Chromium for page tests: Debian's `chromium` (installed by scripts/setup.js when
// missing) driven by playwright-core, with a fresh profile each launch.
//
//   const browser = await launchBrowser();                 // { context, newPage(), close() }
//   const page = await browser.newPage({ width: 1280, height: 800 });
//   await page.goto(url); ...; await browser.close();
//
// CHROMIUM_PATH overrides /usr/bin/chromium. Flags keep the browser quiet and offline apart from
// the pages it is sent to (no QUIC, sync, component updates or background networking).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');
const { offsetMs, shiftDate } = require('./clock');

const EXECUTABLE = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function launchBrowser({ viewport = { width: 1280, height: 800 }, args = [] } = {}) {
  if (!fs.existsSync(EXECUTABLE)) throw new Error(`${EXECUTABLE} is missing: run \`node scripts/setup.js --browser\` (installs Debian's chromium)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: EXECUTABLE, headless: true, args: [...FLAGS, ...args], viewport });
  // A test file that pinned its clock (tests/helpers/clock.js) gives its pages the same time.
  if (offsetMs()) await context.addInitScript(shiftDate, offsetMs());
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return {
    context,
    errors,
    async newPage(size) {
      const page = await context.newPage();
      if (size) await page.setViewportSize(size);
      page.on('pageerror', (err) => errors.push(String(err)));
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { launchBrowser, EXECUTABLE, FLAGS };
