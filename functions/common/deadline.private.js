// Every invocation's time budget. Twilio kills a Function at 10 s with no answer at all, so each
// invocation gets a deadline (FUNCTION_BUDGET_MS, default 9000 ms from the handler's start) and
// every Twilio request made during it is given a timeout that ends before that deadline, leaving
// ANSWER_MARGIN_MS to answer JSON. The deadline travels with the invocation (AsyncLocalStorage),
// so shared clients and helpers need no extra parameter and concurrent invocations in one warm
// container never see each other's budget.
//
//   runWithDeadline(context, () => fn())          // common/http's handle() does this
//   requestTimeoutMs()                            // for the next Twilio request; throws 504 when none is left
const { AsyncLocalStorage } = require('async_hooks');

const DEFAULT_BUDGET_MS = 9000;
const REQUEST_TIMEOUT_MS = 5000; // one Twilio request never waits longer than this
const ANSWER_MARGIN_MS = 500; // kept back to build and send the answer
const MIN_REQUEST_MS = 250; // less than this left: do not start a request at all

const invocation = new AsyncLocalStorage();

class DeadlineError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DeadlineError';
    this.status = 504;
  }
}

let rules = null; // the auth module (values::env's rules), loaded when a budget is set

/** FUNCTION_BUDGET_MS (values::env's function_budget_ms): a bad value is a 500 naming it. */
function budgetMs(context) {
  const v = context && context.FUNCTION_BUDGET_MS;
  if (v === undefined || v === null) return DEFAULT_BUDGET_MS;
  const wasm = require(typeof Runtime !== 'undefined' && Runtime.getFunctions()['common/wasm'] ? Runtime.getFunctions()['common/wasm'].path : require('path').join(__dirname, 'wasm.private.js'));
  rules = rules || wasm.wasmModule('auth');
  return wasm.callWasm(rules, (w) => w.functionBudgetMs(String(v)));
}

/** Runs `fn` with a deadline `budget` ms from now (FUNCTION_BUDGET_MS or 9000). */
function runWithDeadline(context, fn, now = Date.now()) {
  return invocation.run({ deadline: now + budgetMs(context) }, fn);
}

/** Milliseconds left before answering must start; Infinity outside an invocation (scripts, tests). */
function remainingMs(now = Date.now()) {
  const store = invocation.getStore();
  return store ? store.deadline - ANSWER_MARGIN_MS - now : Infinity;
}

/** The timeout for the next Twilio request: at most 5 s, never past the deadline. */
function requestTimeoutMs(now = Date.now()) {
  const left = remainingMs(now);
  if (left < MIN_REQUEST_MS) {
    throw new DeadlineError('Ran out of time before the next Twilio request (a Function must answer within 10 s); nothing further was attempted.');
  }
  return Math.floor(Math.min(REQUEST_TIMEOUT_MS, left));
}

module.exports = { runWithDeadline, remainingMs, requestTimeoutMs, DeadlineError, REQUEST_TIMEOUT_MS };
