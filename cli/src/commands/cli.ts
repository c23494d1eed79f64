/**
 * The `omega-track` command: commander parses the arguments (help per command, `--version`,
 * "did you mean …"); the store is opened as the command needs, and the command runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as Commander from 'commander';
import type { CommanderError, Command as Program, Option } from 'commander';
import type { Omega } from '@omega-track/core';
import { DEFAULT_STORE_URL, TrackingError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { omega } from '../omega';
import type { CliIO, Command } from './command';
import { STORE_HELP } from './command';
import { compareCommand } from './compare';
import { copyCommand } from './copy';
import { dataCommand } from './data';
import { deleteRunCommand } from './deleteRun';
import { dropCommand } from './drop';
import { loadRegistrations } from './experiment';
import { experimentsCommand } from './experiments';
import { exportCommand } from './export';
import { importCommand } from './import';
import type { OptionSpec, OptionValues } from './options';
import { checkOptionValue } from './options';
import { Output, safeLine } from './output';
import { runsCommand } from './runs';
import { serverCommand } from './server';
import { summaryCommand } from './summary';
import { sweepCommand } from './sweep';
import { syncCommand } from './sync';
import { tagCommand } from './tag';
import { tokenCommand } from './token';
import { uiCommand } from './ui';
import { UsageError } from './UsageError';
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
  server: serverCommand,
  token: tokenCommand,
  sweep: sweepCommand,
  copy: copyCommand,
  export: exportCommand,
  import: importCommand,
};

/** Exit codes: a command that failed, and a command line the CLI cannot take. */
const FAILED = 1;
const USAGE = 2;

/** The version of this package, read from its package.json when asked (`omega-track --version`). */
function version(): string {
  // dist/commands/cli.js and src/commands/cli.ts both sit two folders below package.json
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

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
    '  --help                    help for the command (also: omega-track help <command>)',
    '',
    '  -V, --version             print the version of omega-track',
    '',
    'Errors print their message and exit with 1 (2 for a command line that cannot be taken);',
    'OMEGA_DEBUG=1 adds the stack of unexpected ones.',
    '',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: ${c.usage}`, '', c.summary, '', 'Options:', ...c.help, STORE_HELP, ''].join('\n');
}

/** The options `command` takes, with the ones every command has (`--help` is commander's own). */
function optionsOf(command: Command): Record<string, OptionSpec> {
  return {
    ...command.options,
    ...(command.store === 'none' ? {} : { require: { type: 'string', multiple: true } }),
    store: { type: 'string' },
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

/** What the command line asked for, once parsed. */
interface Invocation {
  name: string;
  command: Command;
  args: string[];
  values: OptionValues;
}

/**
 * A command line that cannot be taken: commander's error, or a value refused as it was read,
 * with the command it was given to (undefined: before a command was named).
 */
class ParseFailure extends Error {
  constructor(
    readonly error: CommanderError | UsageError,
    readonly command: string | undefined,
    /** The positional arguments beyond those the command takes. */
    readonly extra: readonly string[] = [],
  ) {
    super(error.message);
  }
}

/** A message of commander without its `error: ` prefix. */
function commanderMessage(error: CommanderError): string {
  return error.message.replace(/^error: /, '');
}

/**
 * The program: one commander command per CLI command. Nothing is written by commander but
 * help and the version (to `io.stdout`); every error ends the parse as an exception that
 * `runCli` reports, so that the CLI runs in-process as well as from the binary.
 */
function program(commander: typeof Commander, io: CliIO, chosen: (invocation: Invocation) => void): Program {
  const main = new commander.Command('omega-track')
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => void io.stdout(text),
      writeErr: (text) => void io.stderr(text),
      outputError: () => undefined,
    })
    .exitOverride((error) => {
      throw new ParseFailure(error, undefined);
    })
    .configureHelp({ formatHelp: () => mainHelp() })
    .version(version(), '-V, --version', 'print the version of omega-track')
    // `help <command>` is taken before parsing (as `<command> --help`)
    .helpCommand(false);
  for (const [name, command] of Object.entries(COMMANDS)) {
    const sub = main
      .command(name)
      .summary(command.summary)
      .configureHelp({ formatHelp: () => commandHelp(command) })
      .exitOverride((error) => {
        const expected = sub.registeredArguments.length;
        throw new ParseFailure(error, name, sub.args.slice(expected));
      });
    if (command.args) sub.arguments(command.args);
    const specs = optionsOf(command);
    const options = new Map<string, Option>();
    const isOption = (arg: string): boolean => {
      const flag = arg.split('=')[0];
      return sub.options.some((o) => o.long === flag || o.short === flag);
    };
    for (const [option, spec] of Object.entries(specs)) {
      const flags = `${spec.short ? `-${spec.short}, ` : ''}--${option}${spec.type === 'string' ? ' <value>' : ''}`;
      const declared = new commander.Option(flags);
      if (spec.type === 'string')
        declared.argParser((value: string, previous: string | string[] | undefined) => {
          try {
            return checkOptionValue(option, spec, value, previous, isOption);
          } catch (error) {
            throw error instanceof UsageError ? new ParseFailure(error, name) : error;
          }
        });
      sub.addOption(declared);
      options.set(option, declared);
    }
    sub.action(() => {
      const values: OptionValues = {};
      for (const [option, declared] of options)
        values[option] = sub.getOptionValue(declared.attributeName()) as OptionValues[string];
      chosen({ name, command, args: [...sub.args], values });
    });
  }
  return main;
}

/**
 * Parses `argv`: what to run, or the exit code when there is nothing to run (help, the
 * version, a usage error: all already written).
 */
async function parse(argv: readonly string[], io: CliIO): Promise<Invocation | number> {
  // no command: the overview, as for --help, but a script that forgot the command fails
  if (argv.length === 0) {
    io.stdout(mainHelp());
    return USAGE;
  }
  // loaded here, not with the package: an application that imports omega-track never parses a command line
  const commander = await import('commander');
  let invocation: Invocation | undefined;
  try {
    await program(commander, io, (chosen) => (invocation = chosen)).parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    return reportParseFailure(error, io);
  }
  return invocation ?? 0;
}

/** Tells a parse failure the way the CLI always has: the message, then the help; its exit code. */
function reportParseFailure(failure: ParseFailure, io: CliIO): number {
  const { error, command: name } = failure;
  const command = name !== undefined ? COMMANDS[name] : undefined;
  if (error instanceof UsageError) {
    const help = error.showHelp && command ? `\n\n${commandHelp(command)}` : '\n';
    io.stderr(`omega-track ${name}: ${safeLine(error.message)}${help}`);
    return USAGE;
  }
  // help and the version were written to stdout
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
  if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : USAGE;
  if (!command) {
    // commander.unknownCommand, or an option before any command
    io.stderr(`omega-track: ${safeLine(commanderMessage(error))}\n\n${mainHelp()}`);
    return USAGE;
  }
  let message = commanderMessage(error);
  if (error.code === 'commander.excessArguments')
    message = `unexpected argument${failure.extra.length > 1 ? 's' : ''} ${failure.extra.map((a) => `'${a}'`).join(' ')}`;
  // as node's parseArgs worded them before: "Unknown option '--bogus'"
  else message = message.charAt(0).toUpperCase() + message.slice(1);
  io.stderr(`omega-track ${name}: ${safeLine(message)}\n\n${commandHelp(command)}`);
  return USAGE;
}

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code: 0 done, 1 failed
 * (the message on stderr, never a stack trace unless OMEGA_DEBUG=1), 2 a usage error.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [first] = argv;
  if (first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    io.stdout(mainHelp());
    return 0;
  }
  // `help runs` is `runs --help`; `help runz` an unknown command, with its "did you mean"
  const helpFor = first === 'help' ? argv[1] : undefined;
  const parsed = await parse(
    helpFor === undefined ? argv : Object.hasOwn(COMMANDS, helpFor) ? [helpFor, '--help'] : argv.slice(1),
    io,
  );
  if (typeof parsed === 'number') return parsed;
  const { name, command, args, values } = parsed;
  const storeOption = values.store;
  const storeUrl =
    (typeof storeOption === 'string' && storeOption) || io.env.OMEGA_STORE || DEFAULT_STORE_URL;
  const requires = (values.require as string[] | undefined) ?? [];
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
    code = await command.run({ args, values, io, out, storeUrl, omega: open });
    await out.flush();
  } catch (error) {
    await out.flush().catch(() => undefined);
    io.stderr(`omega-track ${name}: ${safeLine(describeFailure(error, io.env))}\n`);
    code = error instanceof UsageError ? USAGE : FAILED;
  }
  try {
    await om?.close();
  } catch (error) {
    io.stderr(`omega-track ${name}: ${safeLine(describeFailure(error, io.env))}\n`);
    code ||= FAILED;
  }
  return code;
}
