import { parseArgs } from 'node:util';
import type { EventQuery, Omega, RunSelector } from '@omega-track/core';
import { TrackingError, TrackingInputError, redactUrls } from '@omega-track/core';
import { MlflowClient, MlflowSender, MlflowSpool, defaultSpoolPath } from '@omega-track/providers';
import { omega } from '../omega';
import type { OutputFormat } from './format';
import { columnsOf, render, roundForDisplay } from './format';

/** Where the CLI writes; tests pass their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const FORMAT_HELP = '  --format table|csv|json   output format (default: table)';
const STORE_HELP =
  '  --store URL               the store (default: OMEGA_STORE, else sqlite:.omega/omega.db)';

interface Command {
  usage: string;
  summary: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  help: string[];
  run: (
    om: Omega,
    args: string[],
    values: Record<string, string | boolean | undefined>,
    io: CliIO,
  ) => Promise<number>;
}

const EVENT_COLUMNS = ['experiment', 'run', 'event', 'key', 'value', 'step', 'dt', 'node', 'userid'];
const RUN_COLUMNS = ['run', 'status', 'started', 'stopped', 'duration', 'node', 'userid'];
const SUMMARY_COLUMNS = [
  'run',
  'event',
  'key',
  'count',
  'mean',
  'std',
  'min',
  'p25',
  'p50',
  'p75',
  'max',
  'last',
  'duration',
];

function formatOf(values: Record<string, unknown>): OutputFormat {
  const f = (values.format as string | undefined) ?? 'table';
  if (f !== 'table' && f !== 'csv' && f !== 'json')
    throw new TrackingInputError(`--format must be table, csv or json, got '${f}'`);
  return f;
}

/** `--run` as the CLI takes it: 3, -1, 1,2,5, 2..4, all. */
export function parseRunOption(text: string): RunSelector {
  const t = text.trim();
  if (t === 'all' || t === '*') return 'all';
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(t);
  if (range) return { from: Number(range[1]), to: Number(range[2]) };
  const parts = t.split(',').map((p) => p.trim());
  if (parts.every((p) => /^-?\d+$/.test(p))) return parts.length === 1 ? Number(parts[0]) : parts.map(Number);
  throw new TrackingInputError(
    `--run takes a run number, -1 for the latest, a list 1,2,3, a range 2..5, or all; got '${text}'`,
  );
}

function listOption(value: unknown): string[] | undefined {
  return typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}

async function requireExperiment(om: Omega, name: string | undefined): Promise<string> {
  if (!name) throw new TrackingInputError('name the experiment: omega-track <command> <experiment>');
  if (!(await om.experiments.get(name))) {
    const names = await om.experiments.list();
    throw new TrackingInputError(
      `no experiment '${name}'${names.length ? `; there are: ${names.join(', ')}` : ''}`,
    );
  }
  return name;
}

const COMMANDS: Record<string, Command> = {
  experiments: {
    usage: 'omega-track experiments [--format F]',
    summary: 'list experiments with their provider and number of runs',
    options: { format: { type: 'string' } },
    help: [FORMAT_HELP],
    async run(om, _args, values, io) {
      const rows = [];
      for (const name of await om.experiments.list()) {
        const config = await om.experiments.get(name);
        const runs = await om.store.latestRun(name);
        rows.push({
          experiment: name,
          provider: config?.provider,
          runs: runs ?? 0,
          created: config?.created,
        });
      }
      io.stdout(render(rows, ['experiment', 'provider', 'runs', 'created'], formatOf(values)));
      return 0;
    },
  },
  runs: {
    usage: 'omega-track runs <experiment> [--format F]',
    summary: 'list the runs of an experiment: status, start, stop, duration, node, user',
    options: { format: { type: 'string' } },
    help: [FORMAT_HELP],
    async run(om, args, values, io) {
      const name = await requireExperiment(om, args[0]);
      const runs = await om.runtime.experiment(name).runs();
      io.stdout(render(runs as unknown as Record<string, unknown>[], RUN_COLUMNS, formatOf(values)));
      return 0;
    },
  },
  data: {
    usage: 'omega-track data <experiment> [--run R] [--event E] [--key K] [--since S] [--format F]',
    summary: 'print the events of an experiment',
    options: {
      run: { type: 'string' },
      event: { type: 'string' },
      key: { type: 'string' },
      since: { type: 'string' },
      format: { type: 'string' },
    },
    help: [
      '  --run R      a run (3), the latest (--run=-1), a list (1,2), a range (2..4) or all (default)',
      '  --event E    event name(s), comma separated (metric, param, artifact, profile, …)',
      '  --key K      key(s), comma separated',
      '  --since S    an ISO time or a span before now: 30s, 15m, 2h, 1d, 1w, 1M',
      FORMAT_HELP,
    ],
    async run(om, args, values, io) {
      const name = await requireExperiment(om, args[0]);
      const query: EventQuery = { run: values.run ? parseRunOption(values.run as string) : 'all' };
      const events = listOption(values.event);
      const keys = listOption(values.key);
      if (events) query.event = events;
      if (keys) query.key = keys;
      if (typeof values.since === 'string') query.since = values.since;
      const rows = await om.runtime.experiment(name).data(query);
      io.stdout(render(rows, columnsOf(rows, EVENT_COLUMNS), formatOf(values)));
      return 0;
    },
  },
  summary: {
    usage: 'omega-track summary <experiment> [--run R] [--event E] [--format F]',
    summary: 'statistics per run and key: count, mean, std, min, quartiles, max, last',
    options: { run: { type: 'string' }, event: { type: 'string' }, format: { type: 'string' } },
    help: [
      '  --run R      which runs (default: all)',
      '  --event E    which events (default: metric,profile)',
      FORMAT_HELP,
    ],
    async run(om, args, values, io) {
      const name = await requireExperiment(om, args[0]);
      const query: EventQuery = { run: values.run ? parseRunOption(values.run as string) : 'all' };
      // profiler samples are summarized beside the metrics unless --event says otherwise
      query.event = listOption(values.event) ?? ['metric', 'profile'];
      const format = formatOf(values);
      const rows = (await om.runtime.experiment(name).summary(query)) as unknown as Record<string, unknown>[];
      const shown =
        format === 'table'
          ? rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, roundForDisplay(v)])))
          : rows;
      io.stdout(render(shown, SUMMARY_COLUMNS, format));
      return 0;
    },
  },
  sync: {
    usage: 'omega-track sync [--spool FILE] [--uri URL] [--timeout SECONDS] [--requeue]',
    summary: 'send what waits in the MLflow spool (after an outage or a crash)',
    options: {
      spool: { type: 'string' },
      uri: { type: 'string' },
      timeout: { type: 'string' },
      requeue: { type: 'boolean' },
    },
    help: [
      '  --spool FILE   the spool (default: OMEGA_MLFLOW_SPOOL, else mlflow-spool.db beside the store)',
      '  --uri URL      only the batches for this server, with these credentials (user:password@);',
      '                 without it: every server in the spool, credentials from MLFLOW_TRACKING_URI,',
      '                 MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN',
      '  --timeout S    give up after S seconds (default 300)',
      '  --requeue      first put the requests the server refused before (dead letters) back in line',
    ],
    async run(om, _args, values, io) {
      const spool = MlflowSpool.at((values.spool as string | undefined) ?? defaultSpoolPath(om.store.url));
      const timeoutMs = Number((values.timeout as string | undefined) ?? 300) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
        throw new TrackingInputError('--timeout takes a positive number of seconds');
      // the spool keeps server URLs without credentials: they come from --uri or the environment
      const given = [values.uri as string | undefined, io.env.MLFLOW_TRACKING_URI].filter(
        (u): u is string => !!u,
      );
      const clients = new Map(given.map((u) => [new MlflowClient({ trackingUri: u }).baseUrl, u]));
      const uris = values.uri
        ? [new MlflowClient({ trackingUri: values.uri as string }).baseUrl]
        : spool.uris();
      if (values.requeue) for (const uri of uris.length ? uris : [...clients.keys()]) spool.requeue(uri);
      const targets = values.uri ? uris : spool.uris();
      if (targets.length === 0) {
        io.stdout(`nothing waits in ${spool.file}\n`);
        return 0;
      }
      let failed = false;
      for (const uri of targets) {
        const client = new MlflowClient({ trackingUri: clients.get(uri) ?? uri });
        const before = spool.pending(uri);
        const refusedBefore = spool.deadLetters(uri).length;
        const sender = MlflowSender.for(spool, client, (error) =>
          io.stderr(
            `omega-track sync: ${redactUrls(error instanceof Error ? error.message : String(error))}\n`,
          ),
        );
        await sender.deliver(undefined, timeoutMs, true);
        const left = spool.pending(uri);
        const refused = spool.deadLetters(uri).length - refusedBefore;
        failed ||= left > 0 || refused > 0;
        io.stdout(
          `${uri}: sent ${before - left} batch(es), ${left} still waiting` +
            (refused
              ? `, ${refused} request(s) refused by the server (kept as dead letters; fix the cause, then sync --requeue)`
              : '') +
            '\n',
        );
      }
      return failed ? 1 : 0;
    },
  },
  drop: {
    usage: 'omega-track drop <experiment> --force',
    summary: 'delete an experiment: its events, artifacts and configuration',
    options: { force: { type: 'boolean' } },
    help: ['  --force      required: dropping cannot be undone'],
    async run(om, args, values, io) {
      const name = await requireExperiment(om, args[0]);
      if (values.force !== true)
        throw new TrackingInputError(`dropping '${name}' deletes all its data: add --force`);
      await om.experiments.drop(name, { force: true });
      io.stdout(`dropped experiment '${name}'\n`);
      return 0;
    },
  },
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
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [`Usage: ${c.usage}`, '', c.summary, '', 'Options:', ...c.help, STORE_HELP, ''].join('\n');
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`omega-track: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, store: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr(`omega-track ${name}: ${(error as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(commandHelp(command));
    return 0;
  }
  let om: Omega | undefined;
  try {
    om = omega({ store: (parsed.values.store as string | undefined) ?? io.env.OMEGA_STORE });
    return await command.run(
      om,
      parsed.positionals,
      parsed.values as Record<string, string | boolean | undefined>,
      io,
    );
  } catch (error) {
    if (error instanceof TrackingError) {
      io.stderr(`omega-track ${name}: ${redactUrls(error.message)}\n`);
      return 1;
    }
    throw error;
  } finally {
    await om?.close();
  }
}
