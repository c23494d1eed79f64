/** What every command of the CLI is made of. */
import type { Omega } from '@omega-track/core';
import type { OptionSpec, OptionValues } from './options';
import type { Output } from './output';

/** Where the CLI writes; tests pass their own. */
export interface CliIO {
  /**
   * Standard output. It may return a promise (e.g. until a stream has drained): the CLI waits
   * for it before writing more, so a large result never piles up in memory.
   */
  stdout: (text: string) => unknown;
  stderr: (text: string) => unknown;
  env: NodeJS.ProcessEnv;
  /** Whether standard error is a terminal: long commands then draw a progress line there. */
  stderrIsTTY?: boolean;
}

/** What a command is given when it runs. */
export interface CommandContext {
  /** The positional arguments after the command name. */
  args: string[];
  values: OptionValues;
  io: CliIO;
  /** Standard output, buffered with backpressure. */
  out: Output;
  /** The store URL in use (`--store`, else OMEGA_STORE, else the default). */
  storeUrl: string;
  /**
   * The store and registry, opened on first call as the command's `store` says, with the
   * user's `--require` registrations loaded.
   */
  omega: () => Promise<Omega>;
}

/** One command of the CLI. */
export interface Command {
  usage: string;
  summary: string;
  /**
   * The positional arguments it takes, as commander declares them (`[experiment]`,
   * `[experiment] [runs...]`); one more than these is a usage error. They are declared optional:
   * the command says itself what is missing (`name the experiment: …`).
   */
  args: string;
  options: Record<string, OptionSpec>;
  /** The lines of its help under `Options:` (the common ones follow). */
  help: string[];
  /**
   * How the command opens the store: `read` never creates one (a missing store is an error),
   * `write` creates it when missing, `none` does not open it.
   */
  store: 'read' | 'write' | 'none';
  run: (ctx: CommandContext) => Promise<number>;
}

/** The help line of `--format`. */
export const FORMAT_HELP = '  --format table|csv|json   output format (default: table)';
/** The help line of `--store`. */
export const STORE_HELP =
  '  --store URL               the store (default: OMEGA_STORE, else sqlite:.omega/omega.db)';
/** The help lines of `--require`. */
export const REQUIRE_HELP = [
  '  --require FILE            load a module that registers custom providers or model backends',
  '                            (module.exports = (registry, om) => …, or an exported',
  '                            register(registry, om)); repeatable',
];
