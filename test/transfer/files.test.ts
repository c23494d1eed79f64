/**
 * `omega-track export` → `omega-track import` end to end: runs logged through the public API into
 * a real SQLite store, exported as Parquet and as JSONL, imported into a new SQLite store with the
 * transfer writer — the same data(), runs() and artifacts come back, and nothing twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Omega } from 'omega-track';
import { omega } from 'omega-track';
import { exportFiles } from '../../cli/src/transfer/files/exportFiles';
import type { ExportTableFormat } from '../../cli/src/transfer/files/exportFormat';
import { ExportFileError } from '../../cli/src/transfer/files/ExportFileError';
import { openExportFiles } from '../../cli/src/transfer/files/openExportFiles';
import { storeSource } from '../../cli/src/transfer/storeSource';
import type { TransferLog } from '../../cli/src/transfer/TransferSource';
import { transferRuns } from '../../cli/src/transfer/transferRuns';
import { tempDir } from '../helpers/tmp';
import { logSample, snapshot } from './sampleRuns';

const T0 = Date.UTC(2026, 11, 8, 9, 30, 0, 7);
/** logSample's experiments (5 and 4 runs), and one of names that look like paths (1 run). */
const SAMPLES = ['vision', 'nlp/ünï ☃'];
const PATHS = 'paths/a..b ü';
const EXPERIMENTS = [...SAMPLES, PATHS];
const RUNS = 10;

function log(): TransferLog & { skips: Array<[string, string]>; notes: string[] } {
  const skips: Array<[string, string]> = [];
  const notes: string[] = [];
  return { skips, notes, skipped: (what, why) => skips.push([what, why]), note: (m) => notes.push(m) };
}

/** A run whose names look like paths: keys, tags and artifacts with '/', '..' and unicode. */
async function logPaths(om: Omega): Promise<void> {
  const exp = om.runtime.experiment(PATHS);
  await exp.run(async (e) => {
    e.setTags({ '../x': 'a/b/../c', 'ü☃': '/etc/passwd' });
    e.logMetric('a/../../b', -0, { step: 0, dt: new Date(T0) });
    e.logMetric('ü/☃', NaN, { step: 1, dt: T0 + 1, where: { path: '../..' } });
    e.logParam('../../etc/passwd', { nested: { inf: -Infinity, list: [NaN, 0, -0] } });
    e.logArtifact(Buffer.from('not a path'), '../../etc/passwd');
    e.logArtifact(new Int16Array([1, -2, 3]), '/abs/ü☃');
  });
}

/** What the store gives back of the paths experiment. */
async function pathsSnapshot(om: Omega): Promise<unknown> {
  const exp = om.runtime.experiment(PATHS);
  return {
    data: await exp.data({ run: 'all' }),
    runs: await exp.runs({ run: 'all' }),
    passwd: await exp.restoreArtifact('../../etc/passwd'),
    abs: Array.from((await exp.restoreArtifact('/abs/ü☃')) as Int16Array),
  };
}

async function everything(om: Omega): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const name of SAMPLES) out.push(await snapshot(om, name));
  out.push(await pathsSnapshot(om));
  return out;
}

describe.each<ExportTableFormat>(['parquet', 'jsonl'])('export → import as %s', (format) => {
  let tmp: ReturnType<typeof tempDir>;
  let source: Omega;
  let target: Omega;
  let out: string;

  beforeEach(async () => {
    tmp = tempDir('omega-transfer-files-');
    source = omega({ store: `sqlite:${path.join(tmp.dir, 'source.db')}` });
    target = omega({ store: `sqlite:${path.join(tmp.dir, 'target.db')}` });
    out = path.join(tmp.dir, 'export');
    await logSample(source, SAMPLES[0], { bulk: 1, points: 12_000 });
    await logSample(source, SAMPLES[1]);
    await logPaths(source);
  });

  afterEach(async () => {
    await source.close();
    await target.close();
    tmp.cleanup();
  });

  async function exportAll(): Promise<void> {
    const l = log();
    const summary = await exportFiles(storeSource(source.store), { out, format, log: l });
    expect(l.skips).toEqual([]);
    expect(summary).toMatchObject({ experiments: 3, runs: RUNS, skipped: [] });
  }

  it('gives back identical data(), runs() and artifacts in a new store', async () => {
    await exportAll();
    const l = log();
    const summary = await transferRuns(await openExportFiles(out), { target: target.store, log: l });
    expect(l.skips).toEqual([]);
    expect(summary).toMatchObject({ runs: RUNS, failed: 0, alreadyThere: 0 });
    const before = await everything(source);
    expect(await everything(target)).toEqual(before);
    expect((before[0] as { events: number }).events).toBeGreaterThan(24_000);
    // the values themselves, not only their sameness with the source
    const paths = target.runtime.experiment(PATHS);
    const values = (await paths.data({ run: 1, event: 'metric' })).map((e) => e.value);
    expect(Object.is(values[0], -0) && Number.isNaN(values[1])).toBe(true);
    expect(await paths.restoreArtifact('../../etc/passwd')).toEqual(Buffer.from('not a path'));
    expect(await target.experiments.list()).toEqual([...EXPERIMENTS].sort());
  });

  it('stores nothing twice when the same files are imported again', async () => {
    await exportAll();
    await transferRuns(await openExportFiles(out), { target: target.store, log: log() });
    const once = await everything(target);
    const again = await transferRuns(await openExportFiles(out), { target: target.store, log: log() });
    expect(again).toMatchObject({ runs: 0, events: 0, alreadyThere: RUNS, failed: 0 });
    expect(await everything(target)).toEqual(once);
  });

  it('imports none of a run whose events file is damaged, and says why', async () => {
    await exportAll();
    const eventsFile = path.join(out, `events.${format}`);
    const bytes = fs.readFileSync(eventsFile);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    fs.writeFileSync(eventsFile, bytes);
    const l = log();
    const summary = await transferRuns(await openExportFiles(out), { target: target.store, log: l });
    expect(summary).toMatchObject({ runs: 0, failed: RUNS });
    expect(l.skips).toHaveLength(RUNS);
    for (const [, why] of l.skips) expect(why).toMatch(/events file .* changed or damaged/);
    for (const name of EXPERIMENTS)
      expect(await target.runtime.experiment(name).data({ run: 'all' })).toEqual([]);
  });

  if (format === 'jsonl')
    it('keeps nothing of a run with a row that does not decode, and imports the others', async () => {
      await exportAll();
      // the manifest's checksum would refuse every run: without it, the bad row fails its run alone
      const manifestFile = path.join(out, 'manifest.json');
      const { eventsSha256: _, ...manifest } = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      fs.writeFileSync(manifestFile, JSON.stringify(manifest));
      // the bulk run (24,000 events: the writer has stored a batch of it when it meets the row)
      const vision = manifest.experiments.find((e: { name: string }) => e.name === SAMPLES[0]);
      const bulk = vision.runs.find((r: { run: number }) => r.run === 4);
      expect(bulk.events).toBeGreaterThan(24_000);
      const eventsFile = path.join(out, 'events.jsonl');
      const text = fs.readFileSync(eventsFile);
      const lastLine = text.lastIndexOf('\n', bulk.bytes[1] - 2) + 1;
      const at = text.indexOf('"bool_value":null', lastLine);
      expect(at).toBeGreaterThan(lastLine);
      text.write('"bool_value":true', at);
      fs.writeFileSync(eventsFile, text);
      const l = log();
      const summary = await transferRuns(await openExportFiles(out), { target: target.store, log: l });
      expect(summary).toMatchObject({ runs: RUNS - 1, failed: 1 });
      expect(l.skips).toEqual([[expect.stringContaining('4'), expect.stringMatching(/does not decode/)]]);
      const imported = target.runtime.experiment(SAMPLES[0]);
      expect(await imported.data({ run: 4 })).toEqual([]);
      expect((await imported.runs({ run: 'all' })).map((r) => r.run)).toEqual([1, 2, 3, 5]);
      expect(await imported.data({ run: 1 })).toEqual(
        await source.runtime.experiment(SAMPLES[0]).data({ run: 1 }),
      );
    });

  it('refuses an export of a newer schema version, importing nothing', async () => {
    await exportAll();
    const file = path.join(out, 'manifest.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), schemaVersion: 7 }),
    );
    const err = await openExportFiles(out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportFileError);
    expect((err as Error).message).toMatch(/schema version 7.*up to 1/);
    for (const name of EXPERIMENTS)
      expect(await target.runtime.experiment(name).data({ run: 'all' })).toEqual([]);
  });

  it('refuses a directory without a manifest', async () => {
    await exportAll();
    fs.rmSync(path.join(out, 'manifest.json'));
    await expect(openExportFiles(out)).rejects.toThrow(
      /no complete omega-track export \(no manifest\.json\)/,
    );
  });
});
