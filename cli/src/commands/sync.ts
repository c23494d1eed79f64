/** `omega-track sync`: sends what waits in the MLflow spool and in the team server spools of this machine. */
import fs from 'node:fs';
import os from 'node:os';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { HttpSpool, HttpStore, defaultSpoolDir, processAlive, redactUrls } from '@omega-track/core/internal';
import { MlflowClient, MlflowSender, MlflowSpool, defaultSpoolPath } from '@omega-track/providers/internal';
import type { Command, CommandContext } from './command';
import { stringOption } from './options';

/**
 * The spool at `file`, which exists; what is wrong with it is said with its path (`given`: the
 * option or variable that named it), never as a bare SQLite message.
 */
function openSpool(file: string, given: string | undefined): MlflowSpool {
  const named = given ? ` (${given})` : '';
  if (fs.statSync(file).isDirectory())
    throw new TrackingInputError(
      `the MLflow spool ${file}${named} is a directory: name the spool file itself ` +
        `(the mlflow provider keeps it beside the store, as mlflow-spool.db)`,
    );
  let foreign: string[];
  try {
    foreign = MlflowSpool.foreignTables(file);
    if (foreign.length === 0) return MlflowSpool.at(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'SQLITE_NOTADB'
        ? 'it is no SQLite file, so no spool'
        : code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'EACCES'
          ? 'it cannot be opened for reading and writing (check its permissions and those of its folder)'
          : (error as Error).message;
    throw new TrackingError(`cannot open the MLflow spool ${file}${named}: ${why}`);
  }
  // opening it as a spool would add the spool's tables to someone else's database
  throw new TrackingInputError(
    `${file}${named} is no MLflow spool (it holds tables ${foreign.slice(0, 5).join(', ')}` +
      `${foreign.length > 5 ? ', …' : ''}; is it the store?): nothing was sent or changed. ` +
      `The mlflow provider keeps its spool beside the store, as mlflow-spool.db`,
  );
}

/**
 * Ships the team server spools that processes of this machine left when they ended (their pid is
 * gone); a spool of a process still running is its own to ship. Returns whether all shipped.
 */
async function syncServerSpools(
  dir: string,
  token: string | undefined,
  timeoutMs: number,
  io: CommandContext['io'],
  out: CommandContext['out'],
): Promise<boolean> {
  let ok = true;
  for (const file of HttpSpool.files(dir)) {
    const pid = HttpSpool.pidOf(file);
    if (pid !== undefined && pid !== process.pid && processAlive(pid)) continue;
    let spool: HttpSpool;
    try {
      spool = HttpSpool.open(file);
    } catch (error) {
      io.stderr(`omega-track sync: ${error instanceof Error ? error.message : String(error)}\n`);
      ok = false;
      continue;
    }
    // a spool folder shared between machines (a network home): another machine's spools are its own
    if (spool.info.host && spool.info.host !== os.hostname()) {
      spool.close();
      continue;
    }
    const before = spool.pending();
    const store = new HttpStore(spool.info.url, {
      token,
      spool,
      shipTimeoutMs: timeoutMs,
      onError: (error, context) =>
        io.stderr(
          `omega-track sync: ${context ? `${context}: ` : ''}${redactUrls(error instanceof Error ? error.message : String(error))}\n`,
        ),
    });
    await store.close();
    const shipped = store.shipped;
    const left = before.items - shipped.items - shipped.refused;
    ok &&= left === 0 && shipped.refused === 0;
    out.write(
      `${spool.info.url} (${file}): shipped ${shipped.items} batch(es), ${shipped.events} event(s); ${left} still waiting` +
        (shipped.refused
          ? `, ${shipped.refused} refused by the server (kept as dead letters in the spool)`
          : '') +
        (left && spool.info.tokenHint ? ` (the process logged with token ${spool.info.tokenHint})` : '') +
        '\n',
    );
    await out.flush();
  }
  return ok;
}

/** Sends the batches that wait in the MLflow spool and in leftover team server spools (after an outage or a crash). */
export const syncCommand: Command = {
  usage:
    'omega-track sync [--spool FILE] [--uri URL] [--timeout SECONDS] [--requeue] [--spool-dir DIR] [--token TOKEN]',
  args: '',
  summary:
    'send what waits in the MLflow spool and the team server spools of this machine (after an outage or a crash)',
  options: {
    spool: { type: 'string' },
    uri: { type: 'string' },
    timeout: { type: 'string' },
    requeue: { type: 'boolean' },
    'spool-dir': { type: 'string' },
    token: { type: 'string' },
  },
  help: [
    '  --spool FILE   the spool (default: OMEGA_MLFLOW_SPOOL, else mlflow-spool.db beside the store)',
    '  --uri URL      only the batches for this server, with these credentials (user:password@);',
    '                 without it: every server in the spool, credentials from MLFLOW_TRACKING_URI,',
    '                 MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN',
    '  --timeout S    give up after S seconds (default 300)',
    '  --requeue      first put the requests the server refused before (dead letters) back in line',
    '  --spool-dir D  where the team server spools are (default: OMEGA_SPOOL_DIR, else',
    '                 $XDG_CACHE_HOME/omega-track/spool, else ~/.cache/omega-track/spool); those of',
    '                 processes that ended are shipped to their server',
    '  --token T      the team server token to ship them with (default: OMEGA_TOKEN)',
  ],
  // the spool is a file of its own: the store is not opened (and so never created)
  store: 'none',
  async run(ctx) {
    const { values, io, out } = ctx;
    const mlflow = await syncMlflow(ctx);
    const timeoutMs = Number(stringOption(values, 'timeout') ?? 300) * 1000;
    const dir = stringOption(values, 'spool-dir') ?? defaultSpoolDir(io.env);
    const token = stringOption(values, 'token') ?? (io.env.OMEGA_TOKEN || undefined);
    const servers = await syncServerSpools(dir, token, timeoutMs, io, out);
    return mlflow === 0 && servers ? 0 : 1;
  },
};

/** Sends what waits in the MLflow spool; the exit code. */
async function syncMlflow({ values, io, out, storeUrl }: CommandContext): Promise<number> {
  const uriOption = stringOption(values, 'uri');
  const timeoutMs = Number(stringOption(values, 'timeout') ?? 300) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new TrackingInputError('--timeout takes a positive number of seconds');
  const option = stringOption(values, 'spool');
  const named = option ?? (io.env.OMEGA_MLFLOW_SPOOL || undefined);
  const source = option !== undefined ? '--spool' : named !== undefined ? 'OMEGA_MLFLOW_SPOOL' : undefined;
  const file = named ?? defaultSpoolPath(storeUrl);
  // opening a spool creates it: a missing one is said so, and nothing is created
  if (!fs.existsSync(file)) {
    if (named !== undefined)
      throw new TrackingInputError(`no MLflow spool at ${file}; set OMEGA_MLFLOW_SPOOL or --spool`);
    out.write(`nothing waits: there is no MLflow spool at ${file}\n`);
    return 0;
  }
  const spool = openSpool(file, source);
  // the spool keeps server URLs without credentials: they come from --uri or the environment
  const given = [uriOption, io.env.MLFLOW_TRACKING_URI].filter((u): u is string => !!u);
  const clients = new Map(given.map((u) => [new MlflowClient({ trackingUri: u }).baseUrl, u]));
  const uris = uriOption ? [new MlflowClient({ trackingUri: uriOption }).baseUrl] : spool.uris();
  if (values.requeue) for (const uri of uris.length ? uris : [...clients.keys()]) spool.requeue(uri);
  const targets = uriOption ? uris : spool.uris();
  if (targets.length === 0) {
    out.write(`nothing waits in ${spool.file}\n`);
    return 0;
  }
  let failed = false;
  for (const uri of targets) {
    const client = new MlflowClient({ trackingUri: clients.get(uri) ?? uri });
    const before = spool.pending(uri);
    const refusedBefore = spool.deadLetters(uri).length;
    const sender = MlflowSender.for(spool, client, (error) => {
      io.stderr(`omega-track sync: ${redactUrls(error instanceof Error ? error.message : String(error))}\n`);
    });
    await sender.deliver(undefined, timeoutMs, true);
    const left = spool.pending(uri);
    const refused = spool.deadLetters(uri).length - refusedBefore;
    failed ||= left > 0 || refused > 0;
    out.write(
      `${uri}: sent ${before - left} batch(es), ${left} still waiting` +
        (refused
          ? `, ${refused} request(s) refused by the server (kept as dead letters; fix the cause, then sync --requeue)`
          : '') +
        '\n',
    );
    await out.flush();
  }
  return failed ? 1 : 0;
}
