/** What `import`, `export` and `copy` share on the command line: progress, notes, the summary, the exit code. */
import type { TransferSummary } from '../transfer/transferRuns';
import { ProgressLine } from '../transfer/progress';
import type { TransferLog } from '../transfer/TransferSource';
import type { CommandContext } from './command';
import { safeLine } from './output';

const count = new Intl.NumberFormat('en-US');

/** A transfer's log and progress line, and what it left out. */
export interface TransferSession {
  log: TransferLog;
  progress: ProgressLine;
  skipped: Array<{ what: string; why: string }>;
}

/** Starts a transfer's session: notes go to standard error at once, what was left out is kept for the end. */
export function transferSession(ctx: CommandContext, command: string, label: string): TransferSession {
  const skipped: TransferSession['skipped'] = [];
  const progress = new ProgressLine(ctx.io.stderrIsTTY ? ctx.io.stderr : undefined, label);
  return {
    skipped,
    progress,
    log: {
      skipped: (what, why) => {
        skipped.push({ what, why });
      },
      note: (message) => {
        ctx.io.stderr(
          `${ctx.io.stderrIsTTY ? '\r\u001b[2K' : ''}omega-track ${command}: ${safeLine(message)}\n`,
        );
      },
    },
  };
}

/** The counts of a transfer into a store, as one sentence. */
export function describeRuns(summary: TransferSummary, verb: string): string {
  const parts = [
    `${verb} ${count.format(summary.runs)} run${summary.runs === 1 ? '' : 's'} ` +
      `(${count.format(summary.events)} events` +
      (summary.blobs
        ? `, ${count.format(summary.blobs)} artifact files of ${count.format(summary.bytes)} bytes`
        : '') +
      `) of ${summary.experiments} experiment${summary.experiments === 1 ? '' : 's'}`,
  ];
  if (summary.alreadyThere)
    parts.push(`${count.format(summary.alreadyThere)} already there (nothing stored twice)`);
  if (summary.failed) parts.push(`${count.format(summary.failed)} not written`);
  return parts.join('; ');
}

/**
 * Ends a transfer: the progress line, the summary on standard output, what was left out on
 * standard error with why. Returns the exit code: 1 when anything was left out, else 0.
 */
export function finishTransfer(
  ctx: CommandContext,
  session: TransferSession,
  summary: string,
  command: string,
): number {
  session.progress.finish();
  ctx.out.write(`${safeLine(summary)}\n`);
  if (!session.skipped.length) return 0;
  ctx.io.stderr(`omega-track ${command}: ${session.skipped.length} thing(s) left out:\n`);
  for (const { what, why } of session.skipped) ctx.io.stderr(`  ${safeLine(what)}: ${safeLine(why)}\n`);
  return 1;
}
