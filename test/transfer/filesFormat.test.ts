/**
 * The export files' writer and reader as a pair, with hand-made sources: every value the event
 * model allows comes back as it went in, artifact content is copied beside the tables, and what
 * is damaged or foreign is refused by name.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bucket, MetadataEntry, PendingEvent } from '@omega-track/core';
import { ProviderPackageNotInstalledError, TrackingInputError } from '@omega-track/core';
import type {
  ContentSource,
  SourceRun,
  TransferLog,
  TransferSource,
} from '../../cli/src/transfer/TransferSource';
import { exportFiles } from '../../cli/src/transfer/files/exportFiles';
import type { ExportTableFormat } from '../../cli/src/transfer/files/exportFormat';
import { ExportFileError } from '../../cli/src/transfer/files/ExportFileError';
import { fileNameOf } from '../../cli/src/transfer/files/ContentFiles';
import { loadEsModule } from '../../cli/src/transfer/files/loadParquet';
import { openExportFiles } from '../../cli/src/transfer/files/openExportFiles';
import { tempDir } from '../helpers/tmp';

type Ev = Omit<PendingEvent, 'run'>;

const T0 = Date.UTC(2026, 11, 8, 0, 0, 0, 123);

function ev(event: string, key: string, value: unknown, i: number, more: Partial<Ev> = {}): Ev {
  return {
    event,
    key,
    value,
    step: null,
    dt: T0 + i,
    node: 'host-a',
    userid: 'ana',
    extra: undefined,
    ...more,
  };
}

class MemoryContent implements ContentSource {
  entries = new Map<string, MetadataEntry>();
  blobs = new Map<string, Uint8Array>();
  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    return this.entries.get(`${bucket}:${name}`);
  }
  async listBlobs(prefix: string): Promise<string[]> {
    return [...this.blobs.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async getBlob(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(key);
  }
}

interface HandRun {
  run: number;
  start: Ev;
  events: Ev[];
  content?: ContentSource;
  fail?: string;
}

function source(
  experiments: Array<{ name: string; entry?: MetadataEntry; runs: HandRun[] }>,
): TransferSource {
  return {
    describe: 'hand-made',
    async *experiments() {
      for (const exp of experiments)
        yield {
          name: exp.name,
          entry: exp.entry,
          async *runs(): AsyncIterable<SourceRun> {
            for (const r of exp.runs)
              yield {
                experiment: exp.name,
                run: r.run,
                start: r.start,
                content: r.content,
                info: {
                  run: r.run,
                  status: 'STOPPED',
                  started: new Date(r.start.dt),
                  stopped: new Date(r.start.dt + 10),
                  duration: 10,
                  node: 'host-a',
                  userid: 'ana',
                  name: `run-${r.run}`,
                  tags: { a: 'b' },
                },
                async *events() {
                  // batches of 3: the writer must not care how the source cuts them
                  for (let i = 0; i < r.events.length; i += 3) {
                    if (r.fail && i >= 3) throw new Error(r.fail);
                    yield r.events.slice(i, i + 3).map((e) => ({ ...e, run: r.run }));
                  }
                },
              };
          },
        };
    },
  };
}

function log(): TransferLog & { skips: Array<[string, string]> } {
  const skips: Array<[string, string]> = [];
  return { skips, skipped: (what, why) => skips.push([what, why]), note: () => undefined };
}

/** Everything a source gives, events read to the end. */
async function drain(src: TransferSource): Promise<
  Array<{
    name: string;
    entry?: MetadataEntry;
    runs: Array<{ run?: number; start: Ev; events: PendingEvent[] }>;
  }>
> {
  const out = [];
  for await (const exp of src.experiments(log())) {
    const runs = [];
    for await (const r of exp.runs()) {
      const events: PendingEvent[] = [];
      for await (const batch of r.events()) events.push(...batch);
      runs.push({ run: r.run, start: r.start, events });
    }
    out.push({ name: exp.name, entry: exp.entry, runs });
  }
  return out;
}

/** Deep equality that tells -0 from 0 and NaN from null. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const tricky: Ev[] = [
  ev('metric', 'loss', 0.5, 1, { step: 0 }),
  ev('metric', 'loss', NaN, 2, { step: 1 }),
  ev('metric', 'loss', Infinity, 3, { step: 2 }),
  ev('metric', 'loss', -Infinity, 4, { step: -3 }),
  ev('metric', 'loss', -0, 5, { step: 2 ** 53 + 2 }),
  ev('metric', 'acc', 0, 6),
  ev('param', 'lr', '0.01', 7),
  ev('param', 'flag', false, 8),
  ev('param', 'none', null, 9),
  ev('data', 'nested', { a: [1, NaN, { b: -Infinity, c: 'x' }], d: null, e: true }, 10),
  ev('tag', 'ünï/cødé', '../../etc/passwd', 11, { extra: { taskid: 't-1', score: NaN, deep: { x: [1] } } }),
  ev('metric', 'big', 1.7976931348623157e308, 12, { node: 'other-host', userid: '' }),
  ev('note', 'note', '', 13),
  ev('custom', 'arr', [1, 'two', [3]], 14),
];

describe.each<ExportTableFormat>(['parquet', 'jsonl'])('export files as %s', (format) => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('omega-files-');
  });
  afterEach(() => tmp.cleanup());

  it('give back every event, start event and experiment entry exactly', async () => {
    const entry: MetadataEntry = {
      name: 'experiments/a/b',
      kind: 'experiment.tracker',
      attributes: { provider: 'default', options: { x: 1 } },
      created: new Date(T0 - 1000),
      modified: new Date(T0 - 500),
    };
    const runs: HandRun[] = [
      { run: 1, start: ev('start', 'start', null, 0), events: tricky },
      { run: 3, start: ev('start', 'start', { parent: 1 }, 20), events: [ev('metric', 'm', 1, 21)] },
      { run: 4, start: ev('start', 'start', null, 30), events: [] },
    ];
    const out = path.join(tmp.dir, 'out');
    const l = log();
    const summary = await exportFiles(
      source([
        { name: 'a/b', entry, runs },
        { name: '../ünïcode ☃', runs: [{ run: 7, start: ev('start', 'start', null, 40), events: tricky }] },
      ]),
      { out, format, log: l },
    );
    expect(l.skips).toEqual([]);
    expect(summary).toMatchObject({
      experiments: 2,
      runs: 4,
      events: 4 + tricky.length * 2 + 1,
      skipped: [],
    });
    expect(fs.readdirSync(out).sort()).toEqual(
      ['manifest.json', `events.${format}`, `runs.${format}`].sort(),
    );

    const back = await drain(await openExportFiles(out));
    expect(back.map((e) => e.name)).toEqual(['a/b', '../ünïcode ☃']);
    expect(back[0].entry).toEqual(entry);
    expect(back[1].entry).toBeUndefined();
    expect(back[0].runs.map((r) => r.run)).toEqual([1, 3, 4]);
    for (const [i, r] of [
      ...runs,
      { run: 7, start: ev('start', 'start', null, 40), events: tricky },
    ].entries()) {
      const got = i < 3 ? back[0].runs[i] : back[1].runs[0];
      expect(same(got.start, r.start)).toBe(true);
      expect(got.events).toHaveLength(r.events.length);
      for (const [j, e] of r.events.entries()) {
        const g = got.events[j];
        if (!same(g, { ...e, run: r.run }))
          throw new Error(`event ${j} of run ${r.run}: ${String(g.value)} ≠ ${String(e.value)}`);
      }
    }
    // -0 and NaN are told apart from 0 and null
    expect(Object.is(back[0].runs[0].events[4].value, -0)).toBe(true);
    expect(Number.isNaN(back[0].runs[0].events[1].value)).toBe(true);
  });

  it('copy artifact content beside the tables and serve it back', async () => {
    const content = new MemoryContent();
    const blobKey = '.experiments/a%2Fb/0123abcd';
    content.blobs.set(blobKey, new Uint8Array([0, 1, 2, 255]));
    const datasetBlob = '.experiments/a%2Fb/feed/';
    content.entries.set('datasets:.experiments/.artefacts/feed', {
      name: '.experiments/.artefacts/feed',
      kind: 'typedarray',
      attributes: { experiment: 'a/b', artifact: 'ds', nan: NaN },
      blob: datasetBlob,
      created: new Date(T0),
      modified: new Date(T0 + 1),
    });
    content.blobs.set(`${datasetBlob}0`, new Uint8Array([9, 8]));
    content.blobs.set(`${datasetBlob}1`, new Uint8Array([7]));
    content.blobs.set('.experiments/a%2Fb/unrelated', new Uint8Array([1]));
    const events = [
      ev('artifact', 'bin', { name: 'bin', format: 'binary', data: { blob: blobKey, bytes: 4 } }, 1),
      ev('artifact', 'ds', { name: 'ds', format: 'dataset', data: '.experiments/.artefacts/feed' }, 2),
      ev('artifact', 'again', { name: 'again', format: 'binary', data: { blob: blobKey, bytes: 4 } }, 3),
      ev('artifact', 'inline', { name: 'inline', format: 'type', data: { x: 1 } }, 4),
    ];
    const out = path.join(tmp.dir, 'out');
    const summary = await exportFiles(
      source([{ name: 'a/b', runs: [{ run: 1, start: ev('start', 'start', null, 0), events, content }] }]),
      { out, format, log: log() },
    );
    expect(summary).toMatchObject({ blobs: 3, entries: 1, bytes: 7 });
    // every artifact file lies inside the export, under artifacts/
    const files = fs.readdirSync(path.join(out, 'artifacts'), { recursive: true, withFileTypes: true });
    expect(files.filter((f) => f.isFile())).toHaveLength(4);

    const src = await openExportFiles(out);
    let served: ContentSource | undefined;
    for await (const exp of src.experiments(log())) for await (const r of exp.runs()) served = r.content;
    expect(served).toBeDefined();
    expect(Buffer.from((await served!.getBlob(blobKey))!)).toEqual(Buffer.from([0, 1, 2, 255]));
    const entry = await served!.getEntry('datasets', '.experiments/.artefacts/feed');
    expect(same(entry, content.entries.get('datasets:.experiments/.artefacts/feed'))).toBe(true);
    expect(await served!.listBlobs(datasetBlob)).toEqual([`${datasetBlob}0`, `${datasetBlob}1`]);
    expect(await served!.getBlob('.experiments/a%2Fb/unrelated')).toBeUndefined();
    expect(await served!.getEntry('models', '.experiments/.artefacts/feed')).toBeUndefined();
  });

  it('list a run whose source fails as skipped, and import the others only', async () => {
    const out = path.join(tmp.dir, 'out');
    const l = log();
    const summary = await exportFiles(
      source([
        {
          name: 'e',
          runs: [
            { run: 1, start: ev('start', 'start', null, 0), events: tricky },
            { run: 2, start: ev('start', 'start', null, 0), events: tricky, fail: 'disk on fire' },
            { run: 3, start: ev('start', 'start', null, 0), events: tricky.slice(0, 2) },
          ],
        },
      ]),
      { out, format, log: l },
    );
    expect(summary.runs).toBe(2);
    expect(l.skips).toEqual([["run 2 of 'e'", 'disk on fire']]);
    const back = await drain(await openExportFiles(out));
    expect(back[0].runs.map((r) => [r.run, r.events.length])).toEqual([
      [1, tricky.length],
      [3, 2],
    ]);
  });

  it('refuse an export of a newer schema version by both versions, before reading anything', async () => {
    const out = path.join(tmp.dir, 'out');
    await exportFiles(
      source([{ name: 'e', runs: [{ run: 1, start: ev('start', 'start', null, 0), events: tricky }] }]),
      {
        out,
        format,
        log: log(),
      },
    );
    const file = path.join(out, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...m, schemaVersion: 2, writer: 'omega-track 9.0.0' }));
    const err = await openExportFiles(out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportFileError);
    expect(err).toBeInstanceOf(TrackingInputError);
    expect((err as Error).message).toMatch(/schema version 2 .*omega-track 9\.0\.0.*up to 1/);
  });

  it('refuse a directory without a manifest as an incomplete export', async () => {
    const out = path.join(tmp.dir, 'out');
    await exportFiles(
      source([{ name: 'e', runs: [{ run: 1, start: ev('start', 'start', null, 0), events: tricky }] }]),
      {
        out,
        format,
        log: log(),
      },
    );
    fs.rmSync(path.join(out, 'manifest.json'));
    await expect(openExportFiles(out)).rejects.toThrow(
      /is no complete omega-track export \(no manifest\.json\)/,
    );
    await expect(openExportFiles(path.join(tmp.dir, 'nowhere'))).rejects.toThrow(/does not exist/);
  });

  it("throw a typed error from a run's events when the events file is damaged, truncated or missing", async () => {
    const out = path.join(tmp.dir, 'out');
    const many = Array.from({ length: 2000 }, (_, i) => ev('metric', 'm', i / 3, i + 1, { step: i }));
    await exportFiles(
      source([{ name: 'e', runs: [{ run: 1, start: ev('start', 'start', null, 0), events: many }] }]),
      {
        out,
        format,
        log: log(),
      },
    );
    const eventsFile = path.join(out, `events.${format}`);
    const original = fs.readFileSync(eventsFile);
    const readAll = async (): Promise<unknown> => drain(await openExportFiles(out)).catch((e: unknown) => e);
    // one byte changed in the middle: values carry no checksum of their own, the manifest's catches it
    const damaged = Buffer.from(original);
    const mid = Math.floor(damaged.length / 2);
    damaged[mid] = damaged[mid] === 0x31 ? 0x32 : 0x31;
    fs.writeFileSync(eventsFile, damaged);
    const changed = await readAll();
    expect(changed).toBeInstanceOf(ExportFileError);
    expect((changed as Error).message).toMatch(/SHA-256/);

    // without the manifest's checksum the reader still refuses what does not decode
    const manifestFile = path.join(out, 'manifest.json');
    const { eventsSha256, ...m } = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    expect(eventsSha256).toMatch(/^[0-9a-f]{64}$/);
    fs.writeFileSync(manifestFile, JSON.stringify(m));
    fs.writeFileSync(eventsFile, original.subarray(0, mid));
    expect(await readAll()).toBeInstanceOf(ExportFileError);

    fs.rmSync(eventsFile);
    const missing = await readAll();
    expect(missing).toBeInstanceOf(ExportFileError);
    expect((missing as Error).message).toContain(`events.${format}`);
  });

  it('read runs that straddle row groups', async () => {
    const out = path.join(tmp.dir, 'out');
    const sizes = [49_998, 3, 60_000, 1, 0, 10];
    const runs = sizes.map((n, r) => ({
      run: r + 1,
      start: ev('start', 'start', null, 0),
      events: Array.from({ length: n }, (_, i) => ev('metric', 'm', r * 1e6 + i, i + 1, { step: i })),
    }));
    await exportFiles(source([{ name: 'e', runs }]), { out, format, log: log() });
    const back = await drain(await openExportFiles(out));
    expect(back[0].runs.map((r) => r.events.length)).toEqual(sizes);
    for (const [r, run] of back[0].runs.entries())
      run.events.forEach((e, i) => {
        if (e.value !== r * 1e6 + i || e.step !== i || e.run !== r + 1)
          throw new Error(`run ${r + 1} event ${i}: ${String(e.value)}`);
      });
  });

  it('keep multi-byte text whole across read chunks', async () => {
    const out = path.join(tmp.dir, 'out');
    // ~2.5 MB of three-byte characters: the reader's chunks end inside characters
    const texts = Array.from({ length: 3000 }, (_, i) => `${i}:${'☃ü'.repeat(150 + (i % 7))}`);
    const events = texts.map((t, i) => ev('param', `p${i}`, t, i + 1));
    await exportFiles(
      source([{ name: 'e', runs: [{ run: 1, start: ev('start', 'start', null, 0), events }] }]),
      {
        out,
        format,
        log: log(),
      },
    );
    const back = await drain(await openExportFiles(out));
    expect(back[0].runs[0].events.map((e) => e.value)).toEqual(texts);
  });

  it('refuse a manifest that points outside the export', async () => {
    const out = path.join(tmp.dir, 'out');
    await exportFiles(
      source([{ name: 'e', runs: [{ run: 1, start: ev('start', 'start', null, 0), events: tricky }] }]),
      {
        out,
        format,
        log: log(),
      },
    );
    const file = path.join(out, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...m, eventsFile: `../events.${format}` }));
    await expect(openExportFiles(out)).rejects.toThrow(ExportFileError);
    fs.writeFileSync(
      file,
      JSON.stringify({
        ...m,
        content: { entries: [], blobs: [{ key: '.experiments/x/1', file: '/etc/passwd', bytes: 1 }] },
      }),
    );
    const src = await openExportFiles(out);
    let content: ContentSource | undefined;
    for await (const exp of src.experiments(log())) for await (const r of exp.runs()) content = r.content;
    await expect(content!.getBlob('.experiments/x/1')).rejects.toThrow(ExportFileError);
  });

  it('never write into a directory that is not empty', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'keep.txt'), 'mine');
    await expect(exportFiles(source([]), { out: tmp.dir, format, log: log() })).rejects.toThrow(/not empty/);
    expect(fs.readdirSync(tmp.dir)).toEqual(['keep.txt']);
  });
});

it('refuses a JSONL row that does not decode, with the run it belongs to', async () => {
  const tmp = tempDir('omega-files-');
  try {
    const out = path.join(tmp.dir, 'out');
    await exportFiles(
      source([{ name: 'e', runs: [{ run: 1, start: ev('start', 'start', null, 0), events: tricky }] }]),
      {
        out,
        format: 'jsonl',
        log: log(),
      },
    );
    const eventsFile = path.join(out, 'events.jsonl');
    const lines = fs.readFileSync(eventsFile, 'utf8').split('\n');
    // 'null' → 'true': the same bytes, so the manifest's byte ranges still hold
    expect(lines[3]).toContain('"bool_value":null');
    lines[3] = lines[3].replace('"bool_value":null', '"bool_value":true');
    fs.writeFileSync(eventsFile, lines.join('\n'));
    const manifestFile = path.join(out, 'manifest.json');
    const { eventsSha256: _, ...m } = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    fs.writeFileSync(manifestFile, JSON.stringify(m));
    const err = await drain(await openExportFiles(out)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportFileError);
    expect((err as Error).message).toMatch(
      /row 3 of events\.jsonl \(run 1 of 'e'\) does not decode: it has 2 value columns set/,
    );
  } finally {
    tmp.cleanup();
  }
});

describe('the tables as other readers see them', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('omega-files-');
  });
  afterEach(() => tmp.cleanup());

  const runs = (): HandRun[] => [
    { run: 2, start: ev('start', 'start', { parent: 1 }, 0), events: tricky.slice(0, 5) },
  ];

  it('Parquet: typed columns any reader takes — timestamp(ms, UTC), int64 run and step, doubles with NaN and -0', async () => {
    const out = path.join(tmp.dir, 'out');
    await exportFiles(source([{ name: 'x/y', runs: runs() }]), { out, format: 'parquet', log: log() });
    // hyparquet's plain reader, not the import's: what a notebook would get
    const hyparquet = await loadEsModule<any>('hyparquet', 'test');
    const file = await hyparquet.asyncBufferFromFile(path.join(out, 'events.parquet'));
    const metadata = await hyparquet.parquetMetadataAsync(file);
    const ts = metadata.schema.find((s: { name: string }) => s.name === 'timestamp');
    expect(ts.logical_type).toEqual({ type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' });
    const rows = await hyparquet.parquetReadObjects({ file, metadata });
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({
      experiment: 'x/y',
      run: 2n,
      event: 'start',
      json_value: '{"parent":1}',
      step: null,
    });
    expect(rows[1].timestamp).toEqual(new Date(T0 + 1));
    expect(rows[2].float_value).toBeNaN();
    expect(Object.is(rows[5].float_value, -0)).toBe(true);
    expect(rows[4].step).toBe(-3n);
    const runsFile = await hyparquet.asyncBufferFromFile(path.join(out, 'runs.parquet'));
    expect(await hyparquet.parquetReadObjects({ file: runsFile })).toEqual([
      {
        experiment: 'x/y',
        run: 2n,
        name: 'run-2',
        status: 'STOPPED',
        tags: '{"a":"b"}',
        note: null,
        parent: null,
        started: new Date(T0),
        stopped: new Date(T0 + 10),
        error: null,
      },
    ]);
  });

  it('JSONL: one object per line, non-finite numbers and -0 as text, times in ISO', async () => {
    const out = path.join(tmp.dir, 'out');
    await exportFiles(source([{ name: 'x/y', runs: runs() }]), { out, format: 'jsonl', log: log() });
    const lines = fs.readFileSync(path.join(out, 'events.jsonl'), 'utf8').split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[6]).toBe('');
    const rows = lines.slice(0, 6).map((l) => JSON.parse(l));
    expect(rows[1]).toEqual({
      experiment: 'x/y',
      run: 2,
      event: 'metric',
      key: 'loss',
      float_value: 0.5,
      string_value: null,
      bool_value: null,
      json_value: null,
      step: 0,
      timestamp: new Date(T0 + 1).toISOString(),
      node: 'host-a',
      userid: 'ana',
      extras: null,
    });
    expect(rows.slice(2).map((r) => r.float_value)).toEqual(['NaN', 'Infinity', '-Infinity', '-0']);
    const runRows = fs
      .readFileSync(path.join(out, 'runs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(runRows).toEqual([
      {
        experiment: 'x/y',
        run: 2,
        name: 'run-2',
        status: 'STOPPED',
        tags: '{"a":"b"}',
        note: null,
        parent: null,
        started: new Date(T0).toISOString(),
        stopped: new Date(T0 + 10).toISOString(),
        error: null,
      },
    ]);
  });
});

describe('artifact file names', () => {
  it('never leave their folder and stay short', () => {
    for (const name of ['..', '.', '../../etc/passwd', 'a/b/../c', '/abs', 'x'.repeat(1000), 'ü☃/..']) {
      const f = fileNameOf(name);
      expect(f).not.toMatch(/[/\\]/);
      expect(f).not.toMatch(/^\.+$/);
      expect(f).not.toContain('.');
      expect(Buffer.byteLength(f)).toBeLessThanOrEqual(200);
    }
    expect(fileNameOf('x'.repeat(1000))).not.toEqual(fileNameOf(`${'x'.repeat(999)}y`));
  });

  it('name the install command when the Parquet package is missing', async () => {
    const err = await loadEsModule('hyparquet-not-installed-anywhere', 'reading Parquet export files').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderPackageNotInstalledError);
    expect((err as Error).message).toContain('npm install hyparquet-not-installed-anywhere');
  });
});
