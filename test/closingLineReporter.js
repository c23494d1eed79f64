// Prints one plain closing line, "tests: N passed, N failed[, N skipped]", as the very last
// line of a run (jest's own summary is printed after the reporters run, so this waits for the
// process to exit), so CI tooling that reads the last line of a run can count the tests.
const fs = require('node:fs');

class ClosingLineReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const totalsFile = process.env.OMEGA_TEST_TOTALS_FILE;
    if (totalsFile) {
      // one phase of test/runSuites.js: it adds the phases up and prints the closing line
      fs.appendFileSync(
        totalsFile,
        JSON.stringify({ passed: results.numPassedTests, failed, skipped }) + '\n',
      );
      return;
    }
    const line = `tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
    process.once('exit', () => fs.writeSync(2, line));
  }
}
module.exports = ClosingLineReporter;
