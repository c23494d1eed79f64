import fs from 'node:fs';
import path from 'node:path';
import type { PendingEvent } from '@omega-track/core';
import { decodeValue } from '@omega-track/core/internal';
import type { SourceExperiment, SourceRun, TransferSource } from '../TransferSource';
import { ContentFilesSource, fileInExport } from './ContentFiles';
import { ExportFileError } from './ExportFileError';
import {
  EVENT_COLUMNS,
  EXPORT_FORMAT,
  EXPORT_SCHEMA_VERSION,
  MANIFEST_FILE,
  reviveEntry,
  rowEvent,
  rowOwner,
  sha256File,
} from './exportFormat';
import type { ExportManifest, ManifestExperiment, ManifestRun } from './exportFormat';
import { JsonlTableReader } from './JsonlTable';
import { loadParquetReader } from './loadParquet';
import { ParquetTableReader } from './ParquetTable';
import type { TableReader } from './TableFile';

/** Events handed to the writer at a time. */
const BATCH = 5_000;

/**
 * An export directory (written by `exportFiles`) as a source of runs: each run keeps its number,
 * its start event and every other event, streamed from the events file; artifact content is read
 * from the files beside it. The manifest is checked first: no manifest, another format or a newer
 * schema version is an ExportFileError before anything is read.
 */
export async function openExportFiles(dir: string): Promise<TransferSource> {
  const manifest = await readManifest(dir);
  const eventsPath = fileInExport(dir, manifest.eventsFile, 'the events file');
  let reader: TableReader;
  if (manifest.eventsFile.endsWith('.parquet'))
    reader = new ParquetTableReader(await loadParquetReader(), eventsPath, EVENT_COLUMNS);
  else if (manifest.eventsFile.endsWith('.jsonl')) reader = new JsonlTableReader(eventsPath, EVENT_COLUMNS);
  else
    throw new ExportFileError(
      `the events file of ${dir} is ${manifest.eventsFile}: neither .parquet nor .jsonl`,
    );
  const content = new ContentFilesSource(dir, manifest.content.entries, manifest.content.blobs);
  const checked = checkedOnce(() => checkEventsFile(eventsPath, manifest.eventsSha256));
  const events: TableReader = {
    async *read(range, batchSize) {
      await checked();
      yield* reader.read(range, batchSize);
    },
    close: () => reader.close(),
  };
  return {
    describe: `export ${dir}`,
    async *experiments() {
      for (const exp of manifest.experiments)
        yield sourceExperiment(exp, events, content, manifest.eventsFile);
    },
    close: () => events.close(),
  };
}

function sourceExperiment(
  exp: ManifestExperiment,
  reader: TableReader,
  content: ContentFilesSource,
  eventsFile: string,
): SourceExperiment {
  return {
    name: exp.name,
    entry: reviveEntry(exp.entry),
    runCount: exp.runs.length,
    async *runs() {
      for (const r of exp.runs) yield sourceRun(exp.name, r, reader, content, eventsFile);
    },
  };
}

function sourceRun(
  experiment: string,
  r: ManifestRun,
  reader: TableReader,
  content: ContentFilesSource,
  eventsFile: string,
): SourceRun {
  return {
    experiment,
    run: r.run,
    start: r.start,
    eventCount: r.events - 1,
    content,
    events: () => runEvents(experiment, r, reader, eventsFile),
  };
}

/** The run's rows after its start event, checked to be the run's and to decode. */
async function* runEvents(
  experiment: string,
  r: ManifestRun,
  reader: TableReader,
  eventsFile: string,
): AsyncIterable<PendingEvent[]> {
  let index = r.rows[0];
  // names the row being read when it is called
  const where = (): string => `row ${index} of ${eventsFile} (run ${r.run} of '${experiment}')`;
  for await (const rows of reader.read({ rows: r.rows, bytes: r.bytes }, BATCH)) {
    const batch: PendingEvent[] = [];
    for (const row of rows) {
      const owner = rowOwner(row, experiment, r.run);
      if (owner !== undefined)
        throw new ExportFileError(
          `${where()} belongs to ${owner}: the events file does not match the manifest`,
        );
      const event = rowEvent(row, r.run, where);
      if (index === r.rows[0]) {
        if (event.event !== 'start')
          throw new ExportFileError(`${where()} is a '${event.event}' event, not the run's start event`);
      } else batch.push(event);
      index++;
    }
    if (batch.length > 0) yield batch;
  }
}

/** Runs `check` the first time it is asked; its outcome, failure included, holds for every later run. */
function checkedOnce(check: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= check());
}

/**
 * Compares the events file with the checksum the manifest gives (when it gives one): Parquet pages
 * and JSON lines carry none of their own, and a flipped byte in a value would import silently.
 */
async function checkEventsFile(file: string, sha256: string | undefined): Promise<void> {
  if (sha256 === undefined) return;
  let actual: string;
  try {
    actual = await sha256File(file);
  } catch (err) {
    throw new ExportFileError(`the events file ${file} cannot be read: ${(err as Error).message}`);
  }
  if (actual !== sha256)
    throw new ExportFileError(
      `the events file ${file} is not the one the export wrote (its SHA-256 differs from the manifest's): it was changed or damaged`,
    );
}

/** Reads and checks `manifest.json`: format, schema version, then the shape this reader relies on. */
async function readManifest(dir: string): Promise<ExportManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !fs.existsSync(dir))
      throw new ExportFileError(`the export directory ${dir} does not exist`);
    if (code === 'ENOENT')
      throw new ExportFileError(
        `${dir} is no complete omega-track export (no ${MANIFEST_FILE}): the export was interrupted, or this is not an export directory; nothing was imported`,
      );
    throw new ExportFileError(`${file} cannot be read: ${(err as Error).message}`);
  }
  let m: Record<string, unknown>;
  try {
    m = decodeValue(text) as Record<string, unknown>;
  } catch (err) {
    throw new ExportFileError(
      `${file} is not JSON (${(err as Error).message}): the export is damaged; nothing was imported`,
    );
  }
  if (typeof m !== 'object' || m === null || m.format !== EXPORT_FORMAT)
    throw new ExportFileError(
      `${file} is not the manifest of an omega-track export (its format is not '${EXPORT_FORMAT}')`,
    );
  const version = m.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new ExportFileError(`${file} gives no valid schemaVersion (${JSON.stringify(version)})`);
  if (version > EXPORT_SCHEMA_VERSION)
    throw new ExportFileError(
      `${dir} is an export of schema version ${version} (written by ${String(m.writer)}); this omega-track reads schema versions up to ${EXPORT_SCHEMA_VERSION}: upgrade omega-track to import it. Nothing was imported`,
    );
  const bad = (why: string): ExportFileError =>
    new ExportFileError(`${file} is damaged: ${why}; nothing was imported`);
  if (typeof m.eventsFile !== 'string') throw bad('it names no events file');
  if (m.eventsSha256 !== undefined && typeof m.eventsSha256 !== 'string')
    throw bad('its eventsSha256 is not text');
  if (!Array.isArray(m.experiments)) throw bad('it lists no experiments');
  const content = (m.content ?? {}) as Partial<ExportManifest['content']>;
  if (!Array.isArray(content.entries) || !Array.isArray(content.blobs))
    throw bad('its artifact content list is missing');
  for (const exp of m.experiments as ManifestExperiment[]) {
    if (typeof exp?.name !== 'string' || !Array.isArray(exp.runs))
      throw bad('an experiment has no name or runs');
    for (const r of exp.runs) checkRun(r, exp.name, bad);
  }
  return m as unknown as ExportManifest;
}

function checkRun(r: ManifestRun, experiment: string, bad: (why: string) => ExportFileError): void {
  const range = (v: unknown): boolean =>
    Array.isArray(v) && v.length === 2 && v.every((n) => Number.isSafeInteger(n) && n >= 0) && v[0] < v[1];
  if (!Number.isSafeInteger(r?.run) || r.run < 1) throw bad(`a run of '${experiment}' has no valid number`);
  if (!range(r.rows) || r.events !== r.rows[1] - r.rows[0])
    throw bad(`run ${r.run} of '${experiment}' has no valid row range`);
  if (r.bytes !== undefined && !range(r.bytes))
    throw bad(`run ${r.run} of '${experiment}' has no valid byte range`);
  const s = r.start as Partial<ManifestRun['start']> | undefined;
  if (
    s?.event !== 'start' ||
    typeof s.dt !== 'number' ||
    typeof s.node !== 'string' ||
    typeof s.userid !== 'string'
  )
    throw bad(`run ${r.run} of '${experiment}' has no valid start event`);
  r.start = {
    event: 'start',
    key: s.key ?? 'start',
    value: s.value ?? null,
    step: s.step ?? null,
    dt: s.dt,
    node: s.node,
    userid: s.userid,
    extra: s.extra ?? undefined,
  };
}
