'use strict';
// Preloaded into the Prisma CLI by scripts/prisma.js. The wasm schema engine arms a 10 s timer
// that nothing clears, so `migrate deploy` sat idle for 10 s after finishing. Long timers are
// un-referenced: they still fire if the process is alive, but no longer keep it alive. Open
// database sockets still do, so a migration waiting on PostgreSQL is not cut short.
const originalSetTimeout = global.setTimeout;
global.setTimeout = function setTimeoutUnrefLong(callback, delay, ...args) {
  const timer = originalSetTimeout.call(this, callback, delay, ...args);
  if (typeof delay === 'number' && delay >= 5000 && timer && typeof timer.unref === 'function') timer.unref();
  return timer;
};
