// The commands `npm start` prints to try a direct call end to end against the emulator
// (docs/direct-calls.md): an agent with an extension, Studio's extension check, the Send to Flex
// task the emulator's workflow offers to that agent only, and the invalid and unavailable cases.
function directCallCurls(origin, functionsOrigin, env) {
  const json = (field) => `node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).${field}'`;
  const api = `curl -s -u ${env.ACCOUNT_SID}:${env.AUTH_TOKEN}`;
  const ws = `${origin}/v1/Workspaces/${env.WORKSPACE_SID}`;
  return [
    '  Direct calls (docs/direct-calls.md):',
    `    An agent with extension 1234:  ADA=$(${api} ${ws}/Workers -d FriendlyName=ada \\`,
    `        --data-urlencode 'Attributes={"directExtension":"1234","full_name":"Ada Lovelace"}' | ${json('sid')})`,
    `    She is available:              curl -s ${origin}/emulator/workers/$ADA/activity -d activity=Available`,
    `    What Studio asks:              curl -s ${functionsOrigin}/direct-extension -d extension=1234`,
    `    Send to Flex (the task):       ${api} ${ws}/Tasks -d WorkflowSid=WW${'0'.repeat(32)} -d TaskChannel=voice \\`,
    `        --data-urlencode 'Attributes={"type":"inbound","from":"+15005550001","isDirectCall":true,"directCall":{"extension":"1234","workerSid":"'$ADA'","workerName":"Ada Lovelace"}}' | ${json('assignment_status')}`,
    `        (reserved: offered to her only; see ${origin}/ under taskrouter.tasks)`,
    `    An extension nobody has:       curl -s ${functionsOrigin}/direct-extension -d extension=9999`,
    `    Not digits (400):              curl -s ${functionsOrigin}/direct-extension -d extension=12a`,
    `    She goes offline:              curl -s ${origin}/emulator/workers/$ADA/activity -d activity=Offline`,
    `        then, after DIRECT_EXTENSION_CACHE_SECONDS (5 s):  curl -s ${functionsOrigin}/direct-extension -d extension=1234`,
  ];
}

module.exports = { directCallCurls };
