// The suites that assert how long an event loop may stall (a bound from an issue: 50 ms under a
// server restart, 100 ms while a lock is held, …). On a two-core machine a stall measured while
// another suite keeps both cores busy says more about the machine than about omega-track, so
// `npm test` runs these first, one at a time, with nothing beside them (test/runSuites.js).
module.exports = [
  /test\/team\/restarts\.test\.ts$/,
  /test\/http\/spool\.test\.ts$/,
  /test\/http\/server\.test\.ts$/,
  /test\/storage\/lock\.test\.ts$/,
  /test\/postgres\/processes\.test\.ts$/,
];
