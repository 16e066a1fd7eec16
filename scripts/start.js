#!/usr/bin/env node
// `npm start`: serves every function locally with twilio-run on http://localhost:3000 (PORT to
// change it). Without ACCOUNT_SID/AUTH_TOKEN in .env, a loopback Twilio API emulator starts too and
// the functions talk to it, so everything works offline; with them, the functions talk to Twilio.
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const port = process.env.PORT || '3000';

function readDotEnv() {
  const file = path.join(root, '.env');
  if (!fs.existsSync(file)) return {};
  const vars = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (m) vars[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

async function main() {
  const dotenv = readDotEnv();
  const env = { ...process.env };
  const hasCredentials = Boolean(dotenv.ACCOUNT_SID && dotenv.AUTH_TOKEN);
  let emulator = null;
  const emulatorEntry = path.join(root, 'emulator', 'index.js');
  if (!hasCredentials && fs.existsSync(emulatorEntry)) {
    const { startEmulator, describeForHumans } = require(emulatorEntry);
    emulator = await startEmulator({ port: Number(process.env.EMULATOR_PORT || 3001) });
    Object.assign(env, emulator.functionEnv ? emulator.functionEnv() : {}, { TWILIO_API_ORIGIN: emulator.origin });
    if (describeForHumans) console.log(describeForHumans(emulator.origin).join('\n'));
  } else if (!hasCredentials) {
    console.log('No ACCOUNT_SID/AUTH_TOKEN in .env: functions that call Twilio will fail; check-schedule works offline.');
  }
  console.log(`Functions: http://localhost:${port}/  (e.g. /check-schedule?name=Support)`);

  const twilioRun = path.join(root, 'node_modules', '.bin', 'twilio-run');
  const args = ['start', '--port', port, '--load-local-env'];
  if (fs.existsSync(path.join(root, '.env'))) args.push('--env', '.env');
  const child = spawn(twilioRun, args, { cwd: root, env, stdio: 'inherit' });
  const stop = () => {
    child.kill('SIGTERM');
    if (emulator) emulator.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code) => {
    if (emulator) emulator.close();
    process.exit(code || 0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
