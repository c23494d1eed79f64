import fs from 'node:fs';
import path from 'node:path';
import { TrackingInputError } from '@omega-track/core';
import type { PendingEvent } from '@omega-track/core';
import { toStorableDocument } from '@omega-track/core/internal';
import type { SourceRun, TransferLog, TransferProgress, TransferSource } from '../TransferSource';
import { ContentWriter } from './ContentFiles';
import {
  EVENT_COLUMNS,
  EXPORT_FORMAT,
  EXPORT_SCHEMA_VERSION,
  MANIFEST_FILE,
  RUN_COLUMNS,
  eventRow,
  runRow,
  sha256File,
} from './exportFormat';
import type {
  ColumnSpec,
  ExportManifest,
  ExportTableFormat,
  ManifestExperiment,
  ManifestRun,
  Row,
} from './exportFormat';
import { JsonlTableWriter } from './JsonlTable';
import { loadParquetWriter } from './loadParquet';
import { ParquetTableWriter } from './ParquetTable';
import type { TableWriter } from './TableFile';

/** What `exportFiles` takes. */
export interface ExportFilesOptions {
  /** The directory to write; it must not exist or be empty. */
  out: string;
  format: ExportTableFormat;
  log: TransferLog;
  progress?: TransferProgress;
}

/** What an export wrote. */
export interface ExportSummary {
  out: string;
  format: ExportTableFormat;
  experiments: number;
  runs: number;
  /** Rows of the events file (each run's start event included). */
  events: number;
  /** Artifact content written: entries, blobs and the blobs' bytes. */
  entries: number;
  blobs: number;
  bytes: number;
  /** What was left out, and why (also given to `log.skipped`). */
  skipped: Array<{ what: string; why: string }>;
}

/**
 * Writes the runs of `source` as an export directory (README: "The export format"): the events file, the runs
 * file, artifact content beside them, and `manifest.json` last — an export without it is
 * incomplete. Events are streamed: memory stays at about one row group whatever the size.
 */
export async function exportFiles(source: TransferSource, opts: ExportFilesOptions): Promise<ExportSummary> {
  const { out, format, log, progress } = opts;
  if (format !== 'parquet' && format !== 'jsonl')
    throw new TrackingInputError(`the export format is 'parquet' or 'jsonl', not '${String(format)}'`);
  const writerName = `omega-track ${version()}`;
  // before anything is created: a missing Parquet package leaves no directory behind
  const open = await tableOpener(format, writerName);
  prepareDirectory(out);
  const eventsFile = `events.${format}`;
  const runsFile = `runs.${format}`;
  const events = await open(path.join(out, eventsFile), EVENT_COLUMNS);
  const runRows: Row[] = [];
  const content = new ContentWriter(out);
  const experiments: ManifestExperiment[] = [];
  const skipped: ExportSummary['skipped'] = [];
  const skip = (what: string, why: string): void => {
    skipped.push({ what, why });
    log.skipped(what, why);
  };
  const sourceLog: TransferLog = { skipped: skip, note: (m) => log.note(m) };
  let runCount = 0;
  try {
    for await (const exp of source.experiments(sourceLog)) {
      const record: ManifestExperiment = { name: exp.name, entry: exp.entry, runs: [] };
      experiments.push(record);
      for await (const run of exp.runs()) {
        const what = `run ${run.run ?? '?'} of '${exp.name}'`;
        try {
          const written = await exportRun(exp.name, run, events, content, progress, (why) => skip(what, why));
          if (written) {
            record.runs.push(written);
            runRows.push(runRow(exp.name, written.run, run.info));
            runCount++;
          }
        } catch (err) {
          // its rows already in the events file stay there, unlisted: import reads the manifest's runs only
          skip(what, (err as Error).message);
        }
        progress?.run();
      }
    }
    await events.finish();
  } catch (err) {
    await events.abort();
    throw err;
  }
  const runs = await open(path.join(out, runsFile), RUN_COLUMNS);
  try {
    await runs.add(runRows);
    await runs.finish();
  } catch (err) {
    await runs.abort();
    throw err;
  }
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    schemaVersion: EXPORT_SCHEMA_VERSION,
    created: new Date().toISOString(),
    writer: writerName,
    eventsFile,
    eventsSha256: await sha256File(path.join(out, eventsFile)),
    runsFile,
    experiments,
    counts: {
      runs: runCount,
      events: events.rows,
      blobs: content.blobs.length,
      entries: content.entries.length,
    },
    content: { entries: content.entries, blobs: content.blobs },
    skipped,
  };
  // written under another name and renamed: a reader never sees half a manifest
  const tmp = path.join(out, `.${MANIFEST_FILE}.tmp`);
  await fs.promises.writeFile(tmp, JSON.stringify(toStorableDocument(manifest), null, 1));
  await fs.promises.rename(tmp, path.join(out, MANIFEST_FILE));
  return {
    out,
    format,
    experiments: experiments.length,
    runs: runCount,
    events: events.rows,
    entries: content.entries.length,
    blobs: content.blobs.length,
    bytes: content.bytes,
    skipped,
  };
}

/** Writes one run's rows (its start event first) and its artifact content; undefined when it is skipped. */
async function exportRun(
  experiment: string,
  run: SourceRun,
  events: TableWriter,
  content: ContentWriter,
  progress: TransferProgress | undefined,
  skip: (why: string) => void,
): Promise<ManifestRun | undefined> {
  if (run.run === undefined) {
    skip('the source gives it no run number, which export files keep');
    return undefined;
  }
  const number = run.run;
  const first = events.rows;
  const firstByte = events.bytes;
  await events.add([eventRow(experiment, number, run.start)]);
  progress?.events(1);
  let count = 1;
  const missing: string[] = [];
  for await (const batch of run.events()) {
    await events.add(batch.map((e: PendingEvent) => eventRow(experiment, number, e)));
    missing.push(...(await content.write(batch, run.content)));
    count += batch.length;
    progress?.events(batch.length);
  }
  for (const m of missing) skip(`${m}: not in the source, only the artifact's event is exported`);
  const written: ManifestRun = {
    run: number,
    events: count,
    rows: [first, events.rows],
    start: { ...run.start },
  };
  if (firstByte !== undefined && events.bytes !== undefined) written.bytes = [firstByte, events.bytes];
  return written;
}

/** Checks that `out` is a directory to write into: new or empty (an export never overwrites). */
function prepareDirectory(out: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new TrackingInputError(`the export directory ${out} cannot be used: ${(err as Error).message}`);
    fs.mkdirSync(out, { recursive: true });
    return;
  }
  if (entries.length > 0)
    throw new TrackingInputError(`the export directory ${out} is not empty: give a new or empty directory`);
}

type TableOpener = (file: string, columns: readonly ColumnSpec[]) => Promise<TableWriter>;

async function tableOpener(format: ExportTableFormat, writerName: string): Promise<TableOpener> {
  if (format === 'jsonl') return (file, columns) => JsonlTableWriter.create(file, columns);
  const lib = await loadParquetWriter();
  return (file, columns) => ParquetTableWriter.create(lib, file, columns, writerName);
}

/** This package's version (cli/package.json, three folders up from src/ and dist/ alike). */
function version(): string {
  const file = path.join(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}
