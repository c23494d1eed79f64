// The order suites start in (jest runs two at a time here): the suites that measure how long things
// take go first, and the suites that drive Chromium go last (the suites that bound an event-loop
// stall run before all of them, alone: test/stallSuites.js, test/runSuites.js). Chromium takes much
// of a two-core machine while it runs; a stall measured beside it says more about the machine
// than about omega-track. Within each group, jest's own order (slowest and failed first).
const Sequencer = require('@jest/test-sequencer').default;

/** Suites that measure latencies or time out (a generous bound, but one a busy machine can miss). */
const TIMED = [
  ...require('./stallSuites.js'),
  /test\/runtime\/(redisFailures|local)\.test\.ts$/,
  /test\/regressions\.test\.ts$/,
  /test\/postgres\/errors\.test\.ts$/,
  /test\/edges\/tensorflowCallback\.test\.ts$/,
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
