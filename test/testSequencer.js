// The order suites start in (jest runs two at a time here): the suites that assert how long an
// event loop may stall go first, and the suites that drive Chromium go last. Chromium takes much
// of a two-core machine while it runs; a stall measured beside it says more about the machine
// than about omega-track. Within each group, jest's own order (slowest and failed first).
const Sequencer = require('@jest/test-sequencer').default;

/** Suites that measure stalls or latencies (a generous bound, but one a busy machine can miss). */
const TIMED = [
  /test\/team\/restarts\.test\.ts$/,
  /test\/http\/spool\.test\.ts$/,
  /test\/http\/server\.test\.ts$/,
  /test\/runtime\/(redisFailures|local)\.test\.ts$/,
  /test\/regressions\.test\.ts$/,
  /test\/postgres\/(processes|errors)\.test\.ts$/,
  /test\/edges\/tensorflowCallback\.test\.ts$/,
  /test\/storage\/lock\.test\.ts$/,
  /test\/tensorflow\.test\.ts$/,
  /test\/mlflow\.test\.ts$/,
];
/** Suites that drive Chromium (a UI suite that does is named `*.browser.test.ts`). */
const CHROMIUM = [/test\/browser\//, /test\/ui\/(browser|wideRuns)\.test\.ts$/, /\.browser\.test\.ts$/];

function group(path) {
  const p = path.split('\\').join('/');
  if (CHROMIUM.some((r) => r.test(p))) return 2;
  if (TIMED.some((r) => r.test(p))) return 0;
  return 1;
}

class TimedFirstChromiumLast extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [0, 1, 2].flatMap((g) => sorted.filter((t) => group(t.path) === g));
  }
}

module.exports = TimedFirstChromiumLast;
