'use strict';
/**
 * Preloaded into a gateway by `npm run bench:ab -- --alloc`: SIGUSR2 starts V8's sampling heap profiler
 * (objects the GC collected included: what was allocated, not what is still live), the next SIGUSR2 stops
 * it and writes `$ALLOCATION_PROFILE_DIR/<pid>.heapprofile`.
 */
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Session } = require('node:inspector');

const session = new Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return console.error(`allocation sampling failed: ${error.message}`);
    const file = join(process.env.ALLOCATION_PROFILE_DIR ?? '.', `${process.pid}.heapprofile`);
    writeFileSync(file, JSON.stringify(result.profile));
  });
});
