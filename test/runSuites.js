#!/usr/bin/env node
// `npm test`: the stall suites (test/stallSuites.js) first, one at a time and alone on the
// machine, then every other suite two at a time. Arguments (`npm test -- test/ui`) run jest once
// with them, as `npx jest` would. The closing line ("tests: N passed, N failed") counts both runs.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const jest = require.resolve('jest/bin/jest');
const args = process.argv.slice(2);
if (args.length > 0) {
  const r = spawnSync(process.execPath, [jest, ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const totalsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'omega-tests-')), 'totals.jsonl');
const env = { ...process.env, OMEGA_TEST_TOTALS_FILE: totalsFile };
// each stall suite in a jest process of its own: a process that ran other suites first has a
// larger heap, and its collections are the longer pauses
const phases = [
  ...require('./stallSuites.js').map((suite) => ({
    name: `alone: ${suite.source.replace(/\\/g, '').replace(/\$$/, '')}`,
    env: { OMEGA_TEST_PHASE: 'stall' },
    args: ['--runInBand', suite.source],
  })),
  { name: 'all other suites, two at a time', env: { OMEGA_TEST_PHASE: 'rest' }, args: [] },
];
let code = 0;
for (const phase of phases) {
  process.stderr.write(`\n== npm test: ${phase.name} ==\n`);
  const r = spawnSync(process.execPath, [jest, ...phase.args], {
    stdio: 'inherit',
    env: { ...env, ...phase.env },
  });
  if (r.status !== 0) code = r.status ?? 1;
}

const sum = { passed: 0, failed: 0, skipped: 0 };
const lines = fs.existsSync(totalsFile) ? fs.readFileSync(totalsFile, 'utf8').trim().split('\n') : [];
for (const line of lines.filter(Boolean)) {
  const t = JSON.parse(line);
  for (const k of Object.keys(sum)) sum[k] += t[k];
}
fs.rmSync(path.dirname(totalsFile), { recursive: true, force: true });
if (lines.length !== phases.length) {
  // a jest run that died before its reporter ran counts as a failure, whatever it printed
  sum.failed += phases.length - lines.length;
  code = code || 1;
}
process.stderr.write(
  `tests: ${sum.passed} passed, ${sum.failed} failed${sum.skipped ? `, ${sum.skipped} skipped` : ''}\n`,
);
process.exit(code);
