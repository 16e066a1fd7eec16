// Every invocation's time budget. Twilio kills a Function at 10 s without an answer, so each
// invocation has a deadline (FUNCTION_BUDGET_MS, default 9 s from the handler's start) carried by
// AsyncLocalStorage (concurrent invocations in a warm container never see each other's), and every
// Twilio request gets a timeout that ends ANSWER_MARGIN_MS before it, to leave time to answer.
const { AsyncLocalStorage } = require('async_hooks');

const REQUEST_TIMEOUT_MS = 5000; // one Twilio request never waits longer than this
const ANSWER_MARGIN_MS = 500;
const MIN_REQUEST_MS = 250; // less than this left: do not start a request at all
const invocation = new AsyncLocalStorage();

class DeadlineError extends Error {
  constructor(message) {
    super(message);
    Object.assign(this, { name: 'DeadlineError', status: 504 });
  }
}

/** Runs `fn` with this invocation's deadline (common/http's handle does): FUNCTION_BUDGET_MS as values::env reads it (unset: 9 s; a bad value is a 500 naming it). */
function runWithDeadline(context, fn, now = Date.now()) {
  const { callWasm, shared } = require(Runtime.getFunctions()['common/wasm'].path); // every function that gets here loads the auth module anyway
  const v = context && context.FUNCTION_BUDGET_MS;
  const budget = callWasm(shared('auth'), (w) => w.functionBudgetMs(v === undefined || v === null ? null : String(v)));
  return invocation.run({ deadline: now + budget }, fn);
}

/** Milliseconds left before answering must start; Infinity outside an invocation (scripts, tests). */
function remainingMs(now = Date.now()) {
  const store = invocation.getStore();
  return store ? store.deadline - ANSWER_MARGIN_MS - now : Infinity;
}

/** The next Twilio request's timeout: at most 5 s, never past the deadline; a 504 DeadlineError when none is left. */
function requestTimeoutMs(now = Date.now()) {
  const left = remainingMs(now);
  if (left < MIN_REQUEST_MS) throw new DeadlineError('Ran out of time before the next Twilio request (a Function must answer within 10 s); nothing further was attempted.');
  return Math.floor(Math.min(REQUEST_TIMEOUT_MS, left));
}

/** `promise`'s value, or `late()`'s once `ms` have passed first (the work goes on meanwhile); `ms` Infinity: no bound. */
function within(ms, promise, late) {
  if (!Number.isFinite(ms)) return promise;
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(late()), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

module.exports = { runWithDeadline, remainingMs, requestTimeoutMs, within, DeadlineError, REQUEST_TIMEOUT_MS };
