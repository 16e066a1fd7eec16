// Many queues for wallboard tests and the board benchmark, fast: the first queue goes through the
// real path (emulator TaskRouter -> event callback -> queue-stats function, which writes Flex's
// record and the board's copy and grants the board identity), and the others are added beside it
// in the emulator's state as that writer leaves them: a TaskRouter queue, Flex's record, the
// board's copy (same objects, same layout) and, for a document, the board identity's read-only
// permission. Sync's 20 writes/s per object would otherwise make 2,000 queues take minutes.
//
//   const sids = await addBoardQueues(stack, 300, { layout: 'map' });   // TaskRouter queue SIDs
//   // `edit(record, i)` changes the records written beside the first (e.g. worst-case figures):
//   await addBoardQueues(stack, 4, { prefix: 'Worst', edit: (r) => worstCase(r, emu.clock.now()) });
const { createQueue } = require('../../emulator/taskrouter-stats');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function addBoardQueues(stack, count, { layout = 'map', prefix = 'Board', edit = (r) => r } = {}) {
  const { emu } = stack;
  const env = emu.functionEnv();
  const services = emu.state.sync.services;
  const flex = services.get(env.TWILIO_FLEX_SYNC_SID);
  const board = services.get(env.WALLBOARD_SYNC_SID);
  const name = (i) => `${prefix} ${String(i).padStart(4, '0')}`;
  const first = (await stack.control('POST', '/emulator/taskqueues', { friendlyName: name(0) })).sid;
  const findMap = (s, n) => [...s.maps.values()].find((m) => m.uniqueName === n);
  const findDoc = (s, n) => [...(s.documents || new Map()).values()].find((d) => d.uniqueName === n);
  const copyOf = (s) => (layout === 'documents' ? findDoc(s, `queueStats.${first}`) : findMap(s, 'queueStats') && findMap(s, 'queueStats').items.get(first));
  for (let i = 0; !(copyOf(flex) && copyOf(board)); i += 1) {
    if (i > 200) throw new Error(`the queue-stats function wrote no record for ${first} in both services`);
    await sleep(50);
  }
  const sids = [first];
  const now = emu.clock.now();
  const reader = 'wallboard-reader';
  for (let i = 1; i < count; i += 1) {
    const q = createQueue(emu.ctx, { friendlyName: name(i) });
    sids.push(q.sid);
    for (const s of [flex, board]) {
      const record = edit(JSON.parse(JSON.stringify({ ...copyOf(s).data, sid: q.sid, friendlyName: name(i) })), i);
      if (layout === 'documents') {
        const doc = { sid: emu.ctx.lib.newSid('ET'), uniqueName: `queueStats.${q.sid}`, data: record, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null };
        s.documents.set(doc.sid, doc);
        const index = findMap(s, 'queueStats.index');
        index.items.set(q.sid, {
          key: q.sid,
          data: { ...index.items.get(first).data, sid: q.sid, friendlyName: name(i), document: doc.uniqueName },
          revision: 0,
          dateCreated: now,
          dateUpdated: now,
          dateExpires: null,
        });
        if (s === board) emu.state.syncLive.permissions.set(`${doc.sid}|${reader}`, { read: true, write: false, manage: false });
      } else {
        findMap(s, 'queueStats').items.set(q.sid, { key: q.sid, data: record, revision: 0, dateCreated: now, dateUpdated: now, dateExpires: null });
      }
    }
  }
  return sids;
}

/**
 * A record with the widest figures a tile shows: 999 waiting, the oldest for 59:5x, 100 % SLA,
 * 999 agents, 9,999 accepted and 999 abandoned, ASA 999 s (every channel block).
 */
function worstCase(record, nowMs, { level = 1 } = {}) {
  const entered = new Date(nowMs - 3595 * 1000).toISOString();
  record.oldestTaskEnteredAt = entered;
  for (const key of Object.keys(record)) {
    const block = record[key];
    if (key.startsWith('realTimeStats_') && block) {
      Object.assign(block, { availableWorkers: 999, eligibleWorkers: 999, oldestTaskEnteredAt: entered, tasksByStatus: { ...block.tasksByStatus, pending: 999, reserved: 0 }, activityStatistics: [] });
    }
    if (key.startsWith('cumulativeStats_') && block) {
      Object.assign(block, { rAccepted: 9999, tCanc: 999, avgTaskAcceptanceTime: 999 });
      for (const t of Object.keys(block.serviceLevel || {})) block.serviceLevel[t] = { ...block.serviceLevel[t], level, breached: level < 0.8 };
    }
  }
  return record;
}

module.exports = { addBoardQueues, worstCase };
