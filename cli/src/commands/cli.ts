/** The `omega-track` command: parses the arguments, opens the store as the command needs, runs it. */
import { parseArgs } from 'node:util';
import type { Omega } from '@omega-track/core';
import { DEFAULT_STORE_URL, TrackingError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { omega } from '../omega';
import type { CliIO, Command } from './command';
import { STORE_HELP } from './command';
import { compareCommand } from './compare';
import { dataCommand } from './data';
import { deleteRunCommand } from './deleteRun';
import { dropCommand } from './drop';
import { loadRegistrations } from './experiment';
import { experimentsCommand } from './experiments';
import type { OptionSpec, OptionValues } from './options';
import { joinDashValues } from './options';
import { Output, safeLine } from './output';
import { runsCommand } from './runs';
import { summaryCommand } from './summary';
import { syncCommand } from './sync';
import { tagCommand } from './tag';
import { uiCommand } from './ui';
import { workerCommand } from './worker';

export type { CliIO } from './command';
export { parseRunOption } from './options';

const COMMANDS: Record<string, Command> = {
  experiments: experimentsCommand,
  runs: runsCommand,
  compare: compareCommand,
  tag: tagCommand,
  'delete-run': deleteRunCommand,
  data: dataCommand,
  summary: summaryCommand,
  sync: syncCommand,
  drop: dropCommand,
  worker: workerCommand,
  ui: uiCommand,
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'omega-track — experiment tracking for Node.js machine learning',
    '',
    'Usage: omega-track <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command:',
    STORE_HELP,
    '  --help                    help for the command',
    '',
    'Errors print their message and exit with 1; OMEGA_DEBUG=1 adds the stack of unexpected ones.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: ${c.usage}`, '', c.summary, '', 'Options:', ...c.help, STORE_HELP, ''].join('\n');
}

/** The options `command` takes, with the ones every command has. */
function optionsOf(command: Command): Record<string, OptionSpec> {
  return {
    ...command.options,
    ...(command.store === 'none' ? {} : { require: { type: 'string', multiple: true } }),
    store: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
}

/** How an error is told: a TrackingError by its message; anything else as `error: …` (stack with OMEGA_DEBUG=1). */
function describeFailure(error: unknown, env: NodeJS.ProcessEnv): string {
  if (error instanceof TrackingError) return redactUrls(error.message);
  const message = error instanceof Error ? error.message : String(error);
  const debug = env.OMEGA_DEBUG === '1' || env.OMEGA_DEBUG === 'true';
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  return `error: ${redactUrls(message)}${redactUrls(stack)}`;
}

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code: 0 done, 1 failed
 * (the message on stderr, never a stack trace unless OMEGA_DEBUG=1), 2 a usage error.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`omega-track: unknown command '${safeLine(name)}'\n\n${mainHelp()}`);
    return 2;
  }
  const options = optionsOf(command);
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    // a run such as -1 (the latest) given as a positional is not an option: parseArgs would
    // take it for one, so it is masked through parsing
    const NEGATIVE = '\u0000';
    parsed = parseArgs({
      args: joinDashValues(rest, options).map((a) => (/^-\d/.test(a) ? NEGATIVE + a : a)),
      options,
      allowPositionals: true,
      strict: true,
    }) as { values: OptionValues; positionals: string[] };
    parsed.positionals = parsed.positionals.map((a) => (a.startsWith(NEGATIVE) ? a.slice(1) : a));
  } catch (error) {
    io.stderr(`omega-track ${name}: ${safeLine((error as Error).message)}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(commandHelp(command));
    return 0;
  }
  const storeOption = parsed.values.store;
  const storeUrl =
    (typeof storeOption === 'string' && storeOption) || io.env.OMEGA_STORE || DEFAULT_STORE_URL;
  const requires = (parsed.values.require as string[] | undefined) ?? [];
  let om: Omega | undefined;
  let opened: Promise<Omega> | undefined;
  const open = (): Promise<Omega> =>
    (opened ??= (async () => {
      // reading commands never create a store: a mistyped --store says so instead of starting an empty one
      om = omega({ store: storeUrl, create: command.store === 'write' });
      await loadRegistrations(om, requires);
      return om;
    })());
  const out = new Output(io.stdout);
  let code: number;
  try {
    code = await command.run({
      args: parsed.positionals,
      values: parsed.values,
      io,
      out,
      storeUrl,
      omega: open,
    });
    await out.flush();
  } catch (error) {
    await out.flush().catch(() => undefined);
    io.stderr(`omega-track ${name}: ${safeLine(describeFailure(error, io.env))}\n`);
    code = 1;
  }
  try {
    await om?.close();
  } catch (error) {
    io.stderr(`omega-track ${name}: ${safeLine(describeFailure(error, io.env))}\n`);
    code ||= 1;
  }
  return code;
}
