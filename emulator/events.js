// TaskRouter's workspace events, as the emulator sends them to the workspace's Event Callback URL
// (`POST /emulator/event-callback`, kept in contact-center.js's state): one builder of the fields
// every event carries and one delivery, used by the contact center (queues, tasks), the agent
// model (agent-activity.js) and the test endpoints of taskrouter.js.
//
//   const events = require('./events');
//   const params = events.eventParams(ctx, 'worker.activity.update', { WorkerSid: 'WK…', … });
//   await events.deliverEvent(ctx, params);                  // -> {status, error, body} (null: no callback URL)
//   events.deliverEvent(ctx, params, { later: true });       // queued: -> {queued: n}
//
// Queued events are delivered in the order they happened, at most `concurrency` at a time (as a
// workspace's events reach a busy callback), so a caller never waits on the functions.

/** The fields every TaskRouter event carries, at the emulator clock's instant, and `fields`. */
function eventParams(ctx, eventType, fields) {
  const now = ctx.clock.now();
  const ws = ctx.state.taskrouter.workspace;
  return {
    EventType: eventType,
    AccountSid: ctx.accountSid,
    WorkspaceSid: ws.sid,
    WorkspaceName: ws.friendlyName,
    Sid: ctx.lib.newSid('EV'),
    Timestamp: String(Math.floor(now / 1000)),
    EventDate: new Date(now).toISOString(),
    EventDateMs: String(now),
    EventDescription: eventType,
    ...fields,
  };
}

const area = (ctx) => ctx.state.contactCenter;

/** Sends queued events, at most `concurrency` at a time, in the order they happened. */
function pump(ctx) {
  const a = area(ctx);
  while (a.inFlight < a.concurrency && a.queue.length) {
    const { url, params } = a.queue.shift();
    a.inFlight += 1;
    ctx
      .deliver(url, params)
      .then((r) => (r.status === 200 ? (a.delivered += 1) : (a.failed += 1)))
      .catch(() => (a.failed += 1))
      .finally(() => {
        a.inFlight -= 1;
        pump(ctx);
      });
  }
}

/**
 * Delivers `params` to the Event Callback URL (none: null). At once, answering the function's
 * `{status, error, body}` (the body parsed when it is JSON), or with `later` queued: `{queued}`.
 */
async function deliverEvent(ctx, params, { later = false } = {}) {
  const a = area(ctx);
  const url = a && a.callbackUrl;
  if (!url) return null;
  a.events += 1;
  if (later) {
    a.queue.push({ url, params });
    pump(ctx);
    return { queued: a.queue.length + a.inFlight };
  }
  const record = await ctx.deliver(url, params);
  let body = record.body;
  try {
    body = JSON.parse(record.body);
  } catch {
    /* as text */
  }
  return { status: record.status, error: record.error, body };
}

module.exports = { eventParams, deliverEvent };
