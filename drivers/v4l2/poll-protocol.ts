// Shared between PollThread (main thread) and poll-worker.ts: Int32 cells of
// the control block through which one poll() request at a time is passed.

/** Bumped and notified for each request (and for stop). */
export const PT_REQUEST = 0;
/** Set to ask the worker to exit. */
export const PT_STOP = 1;
export const PT_FD = 2;
export const PT_EVENTS = 3;
export const PT_TIMEOUT = 4;
export const PT_WORDS = 5;
