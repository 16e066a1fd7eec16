// The simulated contact center (a dev/test tool): one model of its queues, agents, arrivals, handle
// times, callers' patience and agents' days, and one engine that plays it as a real workspace
// would: a task is offered the moment an agent of its queue is free (first come, first served), so
// waits are queueing, measured on the simulation's own clock. Both the past days seeded as queue
// and agent history (emulator/history-traffic.js) and the live day of `npm run simulate` come from
// here and are played through the emulator's one agent model (emulator/agent-activity.js), so the
// handle times the history measures are the ones the live day has, staffing (Erlang C over the
// measured handle time) asks for about the agents the simulation has, and the agents the live view
// shows are the ones who answered the queues' calls.
//
//   const { plan, profileOf, MODEL } = require('./contact-center-model');
//   plan({ queues: [{ name: 'Sales', agents: 4, size? }], from, to, hourAt, seed })   (size: the arrival rate's multiplier)
//     -> in time order:
//        {at, queue, type: 'step', task, step: 'entered' | 'canceled', channel}      the task in its queue
//        {at, queue, type: 'reservation', agent, task, step, attributes?}            agent k's reservation:
//            created, then accepted, wrapup (attributes: the disposition), completed; or rejected,
//            timeout (the task goes back to the head of the queue), canceled (the caller hung up)
//        {at, queue, type: 'activity', agent, activity}                             Available, Break, Offline
//
// `hourAt(ms)` says which hour of the model's day (a float, 0–24, and the weekday) an instant is:
// the UTC hour for history; for the live run a compressed day (see `compressedDay`).
// The engine goes from event to event (arrivals, callers giving up, offers and calls ending, a
// shift check every minute); every step is kept in milliseconds.

const MODEL = {
  // Talk time: 15 s + exponential(45 s); wrap-up 5–15 s. Average handle time ~70 s.
  talk: { min: 15, mean: 45 },
  wrap: { min: 5, spread: 10 },
  // Callers hang up after 45–150 s of waiting.
  patience: { min: 45, spread: 105 },
  // Tasks a minute per agent on duty at the rate multiplier 1 (one agent answers 60 / 70 ≈ 0.86 a
  // minute). The day's multiplier goes from ~0.6 (comfortable: the service level is met) to ~1.2
  // at the 10:30 peak and ~1.0 at 14:30 (as much as or more than the agents can answer: the queue
  // builds, the service level breaches, and recovers after).
  perAgentPerMinute: 0.8,
  channels: ['voice', 'voice', 'voice', 'chat', 'video'],
  // Offers: 4 % rejected after 5 s, 3 % left to time out after 15 s (the task goes back to the
  // head of its queue for the next free agent); the others accepted at once.
  offers: { rejected: 0.04, rejectS: 5, timeout: 0.03, timeoutS: 15 },
  // Disposition codes, set at wrap-up in the task's `conversations.outcome` (the agent history's default attribute).
  dispositions: ['Resolved', 'Resolved', 'Resolved', 'Resolved', 'Sale', 'Callback', 'Escalated', 'Follow-up'],
  queues: {
    Sales: { agents: 4, size: 1 },
    Support: { agents: 5, size: 1 },
    Billing: { agents: 3, size: 1 },
    Spanish: { agents: 2, size: 0.9 },
  },
};

/** A queue's profile: the model's for a known name, else a team of 3. */
function profileOf(name) {
  return MODEL.queues[name] || { agents: 3, size: 1 };
}

/** The arrival-rate multiplier at `hour` (0–24) of a weekday: quiet nights, two peaks. */
function curve(hour) {
  const open = 1 / (1 + Math.exp(-(hour - 7.5) * 3)) - 1 / (1 + Math.exp(-(hour - 19.5) * 3));
  const peaks = 0.6 * Math.exp(-(((hour - 10.5) / 0.7) ** 2)) + 0.45 * Math.exp(-(((hour - 14.5) / 0.7) ** 2));
  return 0.04 + open * (0.55 + peaks);
}

/**
 * Who is on duty at `hour`: the first agent around the clock (the night line), the others from
 * 07:00 to 20:00 with two short breaks one after another (9 minutes each, from 08:30 and from
 * 16:00, after the peaks' hours), on weekdays the last of them on a lunch break from 12:00 to
 * 13:00; at weekends half the team (rounded up).
 * Answers the activity of agent `k` of `n`.
 */
function activityOf(k, n, hour, weekend) {
  const team = weekend ? Math.ceil(n / 2) : n;
  if (k >= team) return 'Offline';
  if (k === 0) return 'Available';
  if (hour < 7 || hour >= 20) return 'Offline';
  if (!weekend && k === team - 1 && team > 1 && hour >= 12 && hour < 13) return 'Break';
  for (const start of [8.5, 16]) {
    const from = start + 0.2 * (k - 1);
    if (hour >= from && hour < from + 0.15) return 'Break';
  }
  return 'Available';
}

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The real hour of an instant in UTC, for history: `{hour, weekend}`. */
function utcHour(ms) {
  const d = new Date(ms);
  return { hour: d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600, weekend: d.getUTCDay() % 6 === 0 };
}

/**
 * A live run of `durationMs` from `startMs` as one weekday from 07:00 to 21:00, the peaks given
 * three times the time of other hours so a queue has time to build and drain.
 */
function compressedDay(startMs, durationMs) {
  const from = 7;
  const to = 21;
  const step = 0.25;
  const weight = (h) => ((h >= 9.5 && h < 11.5) || (h >= 13.5 && h < 15.5) ? 3 : 1);
  const marks = [{ h: from, w: 0 }];
  for (let h = from; h < to; h += step) marks.push({ h: h + step, w: marks[marks.length - 1].w + weight(h) * step });
  const total = marks[marks.length - 1].w;
  return (ms) => {
    const w = Math.min(1, Math.max(0, (ms - startMs) / durationMs)) * total;
    const i = Math.max(
      1,
      marks.findIndex((m) => m.w >= w),
    );
    const a = marks[i - 1];
    const b = marks[i];
    return { hour: a.h + ((w - a.w) / (b.w - a.w || 1)) * (b.h - a.h), weekend: false };
  };
}

/**
 * Plays the model from `from` to `to` (ms): arrivals stop at `to`, the tasks then in the queues
 * are answered or abandoned and the calls finished (so nothing is left open). Agents stay in the
 * Available activity while on a task (Flex's default activities: "on a task" and "wrap-up" are
 * the reservation's states). Task SIDs are drawn from `seed`, so the same seed gives the same day.
 */
function plan({ queues, from, to, hourAt = utcHour, seed = 42, taskPrefix = '' }) {
  const random = rng(seed);
  const exp = (mean) => -Math.log(1 - random()) * mean;
  const actions = [];
  let n = 0;
  const sidOf = () => `WT${(taskPrefix + (seed % 65536).toString(16).padStart(4, '0')).slice(0, 8).padEnd(8, '0')}${(++n).toString(16).padStart(24, '0')}`;
  // Shift changes and breaks are looked at every minute of a day (every 1/1000 of a short run).
  const shiftStep = Math.max(100, Math.min(60000, Math.floor((to - from) / 1000)));
  const peak = Math.max(...Array.from({ length: 97 }, (_, i) => curve(i / 4)));
  const { offers } = MODEL;
  for (const q of queues) {
    const profile = { ...profileOf(q.name), ...(q.agents ? { agents: q.agents } : {}), ...(q.size ? { size: q.size } : {}) };
    const agents = Array.from({ length: profile.agents }, (_, k) => ({ k, activity: null, freeAt: from, job: null }));
    const waiting = [];
    const push = (at, action) => actions.push({ at: Math.round(at), queue: q.name, ...action });
    const setActivity = (agent, activity, at) => {
      if (agent.activity === activity) return;
      agent.activity = activity;
      push(at, { type: 'activity', agent: agent.k, activity });
    };
    const reservation = (at, agent, task, step, attributes) => push(at, { type: 'reservation', agent: agent.k, task: task.sid, step, ...(attributes ? { attributes } : {}) });
    const rate = (at) => {
      const { hour, weekend } = hourAt(at);
      return (profile.size * MODEL.perAgentPerMinute * agents.length * curve(hour) * (weekend ? 0.5 : 1)) / 60000; // per ms
    };
    const top = (profile.size * MODEL.perAgentPerMinute * agents.length * peak) / 60000;
    // The next arrival after `t` (a Poisson process of varying rate, by thinning), or Infinity.
    const nextArrival = (t) => {
      for (let at = t; ;) {
        at += exp(1 / top);
        if (at >= to) return Infinity;
        if (random() * top < rate(at)) return at;
      }
    };
    const duty = (agent, at) => {
      const { hour, weekend } = hourAt(at);
      return activityOf(agent.k, agents.length, hour, weekend);
    };
    for (const agent of agents) setActivity(agent, duty(agent, from), from);
    let arrival = nextArrival(from);
    let shift = from + shiftStep;
    // Event by event: an arrival, a caller giving up, an offer or a call ending, a shift check.
    for (;;) {
      let t = Math.min(arrival, shift);
      for (const w of waiting) t = Math.min(t, w.giveUp);
      for (const a of agents) if (a.job) t = Math.min(t, a.freeAt);
      if (t >= to && !waiting.length && agents.every((a) => !a.job)) break;
      if (t === arrival) {
        const task = {
          sid: sidOf(),
          at: t,
          channel: MODEL.channels[Math.floor(random() * MODEL.channels.length)],
          giveUp: t + (MODEL.patience.min + random() * MODEL.patience.spread) * 1000,
          declined: [],
        };
        waiting.push(task);
        push(t, { type: 'step', task: task.sid, step: 'entered', channel: task.channel });
        arrival = nextArrival(t);
      }
      // Callers who give up while waiting.
      for (let i = waiting.length - 1; i >= 0; i--) {
        if (waiting[i].giveUp <= t) {
          push(waiting[i].giveUp, { type: 'step', task: waiting[i].sid, step: 'canceled' });
          waiting.splice(i, 1);
        }
      }
      const checkShift = t === shift;
      if (checkShift) shift += shiftStep;
      for (const agent of agents) {
        const job = agent.job;
        if (job && agent.freeAt <= t) {
          agent.job = null;
          if (job.offer) {
            // An offer not taken: rejected or timed out (the task back at the head of the queue), or the caller hung up.
            reservation(agent.freeAt, agent, job.task, job.offer);
            if (job.offer !== 'canceled') waiting.unshift(job.task);
          } else {
            // A finished call: wrap-up with its disposition, then completed; the agent is free.
            reservation(job.wrapAt, agent, job.task, 'wrapup', { conversations: { outcome: job.disposition } });
            reservation(agent.freeAt, agent, job.task, 'completed');
          }
          setActivity(agent, duty(agent, t), t);
        } else if (!job && checkShift) setActivity(agent, duty(agent, t), t); // shift changes, breaks: once free
      }
      // Free agents are offered the longest-waiting callers (not one they declined).
      for (const agent of agents) {
        if (agent.job || agent.activity !== 'Available') continue;
        const i = waiting.findIndex((w) => !w.declined.includes(agent.k));
        if (i < 0) continue;
        const [task] = waiting.splice(i, 1);
        reservation(t, agent, task, 'created');
        const roll = random();
        const miss = roll < offers.rejected ? ['rejected', offers.rejectS] : roll < offers.rejected + offers.timeout ? ['timeout', offers.timeoutS] : null;
        if (miss) {
          const end = t + miss[1] * 1000;
          task.declined.push(agent.k);
          agent.job = task.giveUp < end ? { task, offer: 'canceled' } : { task, offer: miss[0] };
          agent.freeAt = Math.min(end, Math.max(t + 1, task.giveUp));
          continue;
        }
        const talk = (MODEL.talk.min + exp(MODEL.talk.mean)) * 1000;
        const wrap = (MODEL.wrap.min + random() * MODEL.wrap.spread) * 1000;
        const disposition = MODEL.dispositions[Math.floor(random() * MODEL.dispositions.length)];
        reservation(t + 1, agent, task, 'accepted');
        agent.job = { task, wrapAt: t + talk, disposition };
        agent.freeAt = t + talk + wrap;
      }
    }
  }
  // Stable: one task's steps keep their order when they share a millisecond.
  return actions
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.at - y.a.at || x.i - y.i)
    .map(({ a }) => a);
}

module.exports = { MODEL, plan, profileOf, curve, activityOf, compressedDay, utcHour, rng };
