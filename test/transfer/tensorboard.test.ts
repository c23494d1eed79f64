/**
 * TensorBoard import: event files written by test/helpers/tensorboardWriter (its own CRC32C and
 * protobuf encoding, checked here against the published check values), read back by the reader
 * (TfRecordReader, decodeEvent) and the source (tensorboardSource).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PendingEvent } from 'omega-track';
import { TrackingInputError } from 'omega-track';
import {
  TensorboardFormatError,
  TfRecordReader,
  crc32c,
  decodeEvent,
  maskedCrc32c,
  tensorboardSource,
} from 'omega-track/internal';
import type { SourceRun } from '../../cli/src/transfer/TransferSource';
import {
  crc32cBitwise,
  eventBytes,
  frameRecord,
  maskCrc,
  recordOffsets,
  simpleScalar,
  tensorScalar,
  writeEventFile,
} from '../helpers/tensorboardWriter';
import type { EventSpec } from '../helpers/tensorboardWriter';
import { tempDir } from '../helpers/tmp';
import { CollectingLog } from './collectingLog';

const T0 = 1_700_000_000.123; // a wall time in seconds, with milliseconds

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir('omega-tb-');
});
afterEach(() => tmp.cleanup());

/** Every run of the source, with its events (or the error its events() threw). */
async function readSource(
  dir: string,
  opts: { experiment?: string } = {},
  log = new CollectingLog(),
): Promise<{
  experiments: string[];
  runs: Array<{ run: SourceRun; events: PendingEvent[]; error?: unknown }>;
  log: CollectingLog;
}> {
  const source = tensorboardSource(dir, opts);
  const experiments: string[] = [];
  const runs: Array<{ run: SourceRun; events: PendingEvent[]; error?: unknown }> = [];
  for await (const exp of source.experiments(log)) {
    experiments.push(exp.name);
    for await (const run of exp.runs()) {
      const events: PendingEvent[] = [];
      try {
        for await (const batch of run.events()) events.push(...batch);
        runs.push({ run, events });
      } catch (error) {
        runs.push({ run, events, error });
      }
    }
  }
  return { experiments, runs, log };
}

const metrics = (events: PendingEvent[]): Array<[string, number, number | null, number]> =>
  events.filter((e) => e.event === 'metric').map((e) => [e.key, e.value as number, e.step, e.dt]);

const f32 = (v: number): number => Math.fround(v);

describe('the test writer follows the published format', () => {
  test('its CRC32C gives the published check value, and its mask the published formula', () => {
    // CRC-32C check value (RFC 3720 B.4, the "123456789" check of the CRC catalogue)
    expect(crc32cBitwise(Buffer.from('123456789'))).toBe(0xe3069283);
    // ((0xE3069283 >>> 15) | (0xE3069283 << 17)) + 0xa282ead8, mod 2^32, worked out by hand
    expect(maskCrc(0xe3069283)).toBe(0xc78ab0e5);
    expect(crc32cBitwise(Buffer.alloc(0))).toBe(0);
    // 32 bytes of zeros (RFC 3720 B.4): 0x8A9136AA
    expect(crc32cBitwise(Buffer.alloc(32))).toBe(0x8a9136aa);
  });

  test('the reader computes the same CRCs (its table code against the bitwise one)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(maskedCrc32c(Buffer.from('123456789'))).toBe(0xc78ab0e5);
    const bytes = Buffer.alloc(1000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    for (const n of [0, 1, 7, 8, 9, 63, 1000]) {
      expect(crc32c(bytes.subarray(0, n))).toBe(crc32cBitwise(bytes.subarray(0, n)));
      expect(crc32c(bytes, 3, 3 + Math.min(n, 997))).toBe(
        crc32cBitwise(bytes.subarray(3, 3 + Math.min(n, 997))),
      );
    }
  });

  test('a record is length, masked CRC of the length, data, masked CRC of the data', () => {
    const record = frameRecord(Buffer.from('abc'));
    expect(record.length).toBe(8 + 4 + 3 + 4);
    expect(record.readBigUInt64LE(0)).toBe(3n);
    expect(record.readUInt32LE(8)).toBe(maskCrc(crc32cBitwise(record.subarray(0, 8))));
    expect(record.subarray(12, 15).toString()).toBe('abc');
    expect(record.readUInt32LE(15)).toBe(maskCrc(crc32cBitwise(Buffer.from('abc'))));
    // Event { wall_time=1 (double, tag 0x09), step=2 (varint, tag 0x10) }
    const event = eventBytes({ wallTime: 1.5, step: 300 });
    expect([...event]).toEqual([0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x10, 0xac, 0x02]);
  });
});

describe('TfRecordReader', () => {
  test('reads every record of a file in order, through a buffer smaller than the file', async () => {
    const file = path.join(tmp.dir, 'r.tfrecord');
    const datas = Array.from({ length: 300 }, (_, i) => Buffer.alloc(i * 7, i & 0xff));
    fs.writeFileSync(file, Buffer.concat(datas.map(frameRecord)));
    // a 64-byte buffer: most records are longer, so the buffer grows and shrinks back
    const reader = new TfRecordReader(file, { bufferBytes: 64 });
    const got: string[] = [];
    for await (const r of reader.records()) got.push(Buffer.from(r.data).toString('hex'));
    expect(got).toEqual(datas.map((d) => d.toString('hex')));
    expect(reader.count).toBe(300);
    expect(reader.cut).toBeUndefined();
  });

  test('a file that ends inside its last record is read up to it, and the cut is said', async () => {
    const file = path.join(tmp.dir, 'cut.tfrecord');
    const records = [0, 1, 2, 3].map((i) => frameRecord(Buffer.from(`record ${i}`)));
    const whole = Buffer.concat(records.slice(0, 3));
    for (const keep of [1, 11, 12, 15, records[3].length - 1]) {
      fs.writeFileSync(file, Buffer.concat([whole, records[3].subarray(0, keep)]));
      const reader = new TfRecordReader(file);
      const got: string[] = [];
      for await (const r of reader.records()) got.push(Buffer.from(r.data).toString());
      expect(got).toEqual(['record 0', 'record 1', 'record 2']);
      expect(reader.cut).toEqual({ offset: whole.length, records: 3 });
    }
  });

  test('a CRC mismatch in the middle is a TensorboardFormatError naming the file and the byte', async () => {
    const file = path.join(tmp.dir, 'bad.tfrecord');
    const records = [0, 1, 2].map((i) => frameRecord(Buffer.from(`record ${i}`)));
    const bad = Buffer.concat(records);
    bad[records[0].length + 13] ^= 0x01; // a data byte of record 1
    fs.writeFileSync(file, bad);
    const got: string[] = [];
    const error = await (async () => {
      for await (const r of new TfRecordReader(file).records()) got.push(Buffer.from(r.data).toString());
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TensorboardFormatError);
    expect((error as TensorboardFormatError).file).toBe(file);
    expect((error as TensorboardFormatError).offset).toBe(records[0].length);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(`byte ${records[0].length}`);
    expect(got).toEqual(['record 0']);

    // a length whose CRC does not match
    const badLength = Buffer.concat(records);
    badLength[records[0].length] ^= 0x40;
    fs.writeFileSync(file, badLength);
    await expect(drain(new TfRecordReader(file))).rejects.toThrow(/CRC of its length/);

    // a length no writer writes, with a matching CRC
    const huge = Buffer.alloc(12);
    huge.writeBigUInt64LE(1n << 40n);
    huge.writeUInt32LE(maskCrc(crc32cBitwise(huge.subarray(0, 8))), 8);
    fs.writeFileSync(file, Buffer.concat([records[0], huge, Buffer.alloc(100)]));
    await expect(drain(new TfRecordReader(file))).rejects.toThrow(TensorboardFormatError);
  });
});

async function drain(reader: TfRecordReader): Promise<number> {
  let n = 0;
  for await (const _ of reader.records()) n++;
  return n;
}

describe('decodeEvent', () => {
  test('wall time, step (also negative and beyond 32 bits), file version, unknown fields skipped', () => {
    expect(decodeEvent(eventBytes({ wallTime: T0, fileVersion: 'brain.Event:2' }))).toMatchObject({
      wallTime: T0,
      step: 0,
      fileVersion: 'brain.Event:2',
      values: undefined,
    });
    for (const step of [1, 127, 128, 2 ** 31, 2 ** 40 + 3, -1, -(2 ** 35), Number.MAX_SAFE_INTEGER])
      expect(decodeEvent(eventBytes({ wallTime: 1, step, unknownField: true })).step).toBe(step);
  });

  test('simple_value and tensor values, with the plugin named in the metadata', () => {
    const e = decodeEvent(
      eventBytes({
        wallTime: T0,
        step: 7,
        values: [
          { tag: 'loss', simpleValue: 0.25 },
          { tag: 'acc', tensor: { dtype: 'float', values: [0.5], as: 'content' }, plugin: 'scalars' },
          { tag: 'hist', histogram: { min: 0, max: 1, buckets: [1, 2, 3] } },
        ],
      }),
    );
    expect(e.values?.map((v) => [v.tag, v.kind, v.pluginName])).toEqual([
      ['loss', 'simple_value', undefined],
      ['acc', 'tensor', 'scalars'],
      ['hist', 'histo', undefined],
    ]);
    expect(e.values?.[0].simpleValue).toBe(0.25);
    expect(e.values?.[1].tensor).toMatchObject({ dtype: 1, dims: [] });
  });
});

describe('tensorboardSource', () => {
  test('scalars as simple_value and as v2 tensors (float and double, content and *_val) become metrics with tag, step and time kept', async () => {
    const events: EventSpec[] = [
      simpleScalar('loss', 0.75, 0, T0 + 1),
      tensorScalar('accuracy', 0.5, 0, T0 + 1.0004),
      tensorScalar('lr', 0.001, 1, T0 + 2.5, 'double', 'val'),
      tensorScalar('lr', 1e-300, 2, T0 + 3.25, 'double', 'content'),
      // a tag's later values carry no metadata: Keras writes the plugin once per tag and file
      {
        wallTime: T0 + 4,
        step: 3,
        values: [{ tag: 'accuracy', tensor: { dtype: 'float', values: [0.625] } }],
      },
      // rank-0 tensors without any plugin: int32, int64, half
      { wallTime: T0 + 5, step: 4, values: [{ tag: 'epochs', tensor: { dtype: 'int32', values: [-3] } }] },
      { wallTime: T0 + 5, step: 4, values: [{ tag: 'big', tensor: { dtype: 'int64', values: [2 ** 40] } }] },
      { wallTime: T0 + 5, step: 4, values: [{ tag: 'half', tensor: { dtype: 'half', values: [1.5] } }] },
      simpleScalar('loss', 0.1, 2 ** 33, T0 + 6),
    ];
    writeEventFile(path.join(tmp.dir, 'logs'), events, { host: 'gpu1.example.com', suffix: '.4242.7.v2' });
    const { experiments, runs, log } = await readSource(path.join(tmp.dir, 'logs'));
    expect(experiments).toEqual(['logs']);
    expect(runs).toHaveLength(1);
    const { run, events: got, error } = runs[0];
    expect(error).toBeUndefined();
    expect(run.experiment).toBe('logs');
    expect(run.run).toBeUndefined();
    expect(run.origin).toBe(`tensorboard:${fs.realpathSync(path.join(tmp.dir, 'logs'))}`);
    // the start is the earliest wall time (the file-version event's), in ms
    expect(run.start).toMatchObject({
      event: 'start',
      key: 'start',
      value: null,
      step: null,
      dt: 1_700_000_001_123,
    });
    expect(run.start.node).toBe('gpu1.example.com');
    expect(run.start.userid).toBe('');
    expect(metrics(got)).toEqual([
      ['loss', 0.75, 0, Math.round((T0 + 1) * 1000)],
      ['accuracy', 0.5, 0, Math.round((T0 + 1.0004) * 1000)],
      ['lr', 0.001, 1, Math.round((T0 + 2.5) * 1000)],
      ['lr', 1e-300, 2, Math.round((T0 + 3.25) * 1000)],
      ['accuracy', 0.625, 3, Math.round((T0 + 4) * 1000)],
      ['epochs', -3, 4, Math.round((T0 + 5) * 1000)],
      ['big', 2 ** 40, 4, Math.round((T0 + 5) * 1000)],
      ['half', 1.5, 4, Math.round((T0 + 5) * 1000)],
      ['loss', f32(0.1), 2 ** 33, Math.round((T0 + 6) * 1000)],
    ]);
    for (const e of got) expect(e).toMatchObject({ node: 'gpu1.example.com', userid: '', extra: undefined });
    expect(got[0]).toMatchObject({ event: 'name', key: 'name', value: 'logs', dt: run.start.dt });
    expect(got[got.length - 1]).toMatchObject({
      event: 'stop',
      key: 'stop',
      value: { status: 'STOPPED' },
      dt: Math.round((T0 + 6) * 1000),
    });
    expect(log.skips).toEqual([]);
    expect(log.notes).toEqual([]);
  });

  test('each directory with event files is a run (train, validation), named by its path; --experiment names the experiment', async () => {
    const logs = path.join(tmp.dir, 'fit');
    writeEventFile(path.join(logs, 'train'), [
      simpleScalar('loss', 1, 0, T0),
      simpleScalar('loss', 0.5, 1, T0 + 1),
    ]);
    writeEventFile(path.join(logs, 'validation'), [simpleScalar('loss', 2, 0, T0 + 0.5)], { host: 'other' });
    writeEventFile(path.join(logs, 'a', 'b'), [tensorScalar('x', 3, 5, T0 + 9)]);
    fs.mkdirSync(path.join(logs, 'empty'));
    fs.writeFileSync(path.join(logs, 'README.txt'), 'not an event file');
    const { experiments, runs } = await readSource(logs, { experiment: 'keras/fit' });
    expect(experiments).toEqual(['keras/fit']);
    const real = fs.realpathSync(logs);
    expect(
      runs.map(({ run, events }) => [run.experiment, run.origin, events[0].value, run.start.node]),
    ).toEqual([
      ['keras/fit', `tensorboard:${path.join(real, 'a/b')}`, 'a/b', 'testhost'],
      ['keras/fit', `tensorboard:${path.join(real, 'train')}`, 'train', 'testhost'],
      ['keras/fit', `tensorboard:${path.join(real, 'validation')}`, 'validation', 'other'],
    ]);
    expect(metrics(runs[1].events)).toEqual([
      ['loss', 1, 0, Math.round(T0 * 1000)],
      ['loss', 0.5, 1, Math.round((T0 + 1) * 1000)],
    ]);
    expect(metrics(runs[2].events)).toEqual([['loss', 2, 0, Math.round((T0 + 0.5) * 1000)]]);
  });

  test('several event files of one run are merged by time, file order breaking ties', async () => {
    const dir = path.join(tmp.dir, 'run');
    // a restarted writer: the second file starts before the first one's last event
    writeEventFile(dir, [simpleScalar('a', 1, 1, T0 + 1), simpleScalar('a', 3, 3, T0 + 3)], {
      secs: 1_700_000_001,
    });
    writeEventFile(dir, [simpleScalar('b', 2, 2, T0 + 2), simpleScalar('b', 3, 3, T0 + 3)], {
      secs: 1_700_000_002,
      host: 'second',
    });
    const { runs } = await readSource(dir);
    expect(metrics(runs[0].events).map(([k, v]) => `${k}${v}`)).toEqual(['a1', 'b2', 'a3', 'b3']);
    expect(runs[0].events.filter((e) => e.event === 'metric').map((e) => e.node)).toEqual([
      'testhost',
      'second',
      'testhost',
      'second',
    ]);
  });

  test('thousands of scalars in several files: every one, in time order, across read chunks', async () => {
    const dir = path.join(tmp.dir, 'many');
    // two writers at once (e.g. two processes), interleaved in time; 6,000 records each (more than a chunk)
    const a = Array.from({ length: 6000 }, (_, i) => simpleScalar('a', i, i, T0 + i * 0.002));
    const b = Array.from({ length: 6000 }, (_, i) => tensorScalar('b', -i, i, T0 + 0.001 + i * 0.002));
    writeEventFile(dir, a, { secs: 1_700_000_000, host: 'h1' });
    writeEventFile(dir, b, { secs: 1_700_000_001, host: 'h2' });
    const { runs, log } = await readSource(dir);
    const got = metrics(runs[0].events);
    expect(got).toHaveLength(12_000);
    expect(got.slice(0, 4).map(([k, v]) => `${k}${v}`)).toEqual(['a0', 'b0', 'a1', 'b-1']);
    expect(got.filter((g, i) => i > 0 && g[3] < got[i - 1][3])).toEqual([]);
    expect(got.filter(([k]) => k === 'a').map(([, v]) => v)).toEqual(a.map((_, i) => i));
    expect(log.skips).toEqual([]);
  });

  test('a corrupt record after the first thousands: the records before it are given, then the error', async () => {
    const dir = path.join(tmp.dir, 'late');
    const events = Array.from({ length: 5000 }, (_, i) => simpleScalar('x', i, i, T0 + i));
    const file = writeEventFile(dir, events);
    const at = recordOffsets(events)[4500];
    const bytes = fs.readFileSync(file);
    bytes[at + 3] ^= 0x10; // the length's CRC no longer matches
    fs.writeFileSync(file, bytes);
    const seen: string[] = [];
    const error = await (async () => {
      for await (const r of new TfRecordReader(file, { bufferBytes: 4096 }).records())
        seen.push(String(r.offset));
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TensorboardFormatError);
    expect((error as TensorboardFormatError).offset).toBe(at);
    expect(seen).toHaveLength(4501); // the file-version record and 4,500 scalars
    const { runs } = await readSource(dir);
    expect(runs[0].error).toBeInstanceOf(TensorboardFormatError);
    expect((runs[0].error as Error).message).toContain(`byte ${at}`);
  });

  test('a truncated last record: the records before it are read, and the cut is said', async () => {
    const dir = path.join(tmp.dir, 'live');
    const events = [0, 1, 2, 3].map((i) => simpleScalar('loss', i, i, T0 + i));
    const file = writeEventFile(dir, events);
    const offsets = recordOffsets(events);
    fs.truncateSync(file, offsets[3] + 10); // the writer has written 10 bytes of the 4th scalar
    const { runs, log } = await readSource(dir);
    expect(runs[0].error).toBeUndefined();
    expect(metrics(runs[0].events).map(([, v]) => v)).toEqual([0, 1, 2]);
    expect(log.skips).toEqual([
      {
        what: file,
        why: expect.stringMatching(
          new RegExp(`the last record is cut off at byte ${offsets[3]}; the 4 records before it were read`),
        ),
      },
    ]);
  });

  test('a corrupt record in the middle: that run throws a TensorboardFormatError, the others read', async () => {
    const logs = path.join(tmp.dir, 'logs');
    const events = [0, 1, 2].map((i) => simpleScalar('loss', i, i, T0 + i));
    const bad = writeEventFile(path.join(logs, 'bad'), events);
    writeEventFile(path.join(logs, 'good'), events);
    const bytes = fs.readFileSync(bad);
    const at = recordOffsets(events)[1];
    bytes[at + 14] ^= 0xff;
    fs.writeFileSync(bad, bytes);
    const { runs } = await readSource(logs);
    expect(runs.map((r) => r.events[0]?.value)).toEqual(['bad', 'good']);
    expect(runs[0].error).toBeInstanceOf(TensorboardFormatError);
    expect((runs[0].error as Error).message).toBe(
      `${bad}: the record at byte ${at} is corrupt: the CRC of its data does not match`,
    );
    expect(runs[1].error).toBeUndefined();
    expect(metrics(runs[1].events)).toHaveLength(3);
  });

  test('a directory without event files, or none at all: a TrackingInputError naming it', async () => {
    const empty = path.join(tmp.dir, 'empty');
    fs.mkdirSync(path.join(empty, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(empty, 'sub', 'events.txt'), 'x');
    await expect(readSource(empty)).rejects.toThrow(TrackingInputError);
    await expect(readSource(empty)).rejects.toThrow(
      `no TensorBoard event files (events.out.tfevents.*) under ${empty}`,
    );
    await expect(readSource(path.join(tmp.dir, 'missing'))).rejects.toThrow(/does not exist/);
    const file = writeEventFile(path.join(tmp.dir, 'f'), [simpleScalar('a', 1, 1, T0)]);
    await expect(readSource(file)).rejects.toThrow(/is not a directory/);
  });

  test('images, histograms and text are left out and said once per run, not errors', async () => {
    const dir = path.join(tmp.dir, 'mixed');
    writeEventFile(dir, [
      simpleScalar('loss', 1, 0, T0),
      {
        wallTime: T0,
        step: 0,
        values: [{ tag: 'digits', image: { width: 2, height: 2, png: Buffer.from('png') } }],
      },
      { wallTime: T0, step: 0, values: [{ tag: 'weights', histogram: { min: 0, max: 1, buckets: [1, 2] } }] },
      { wallTime: T0, step: 1, values: [{ tag: 'weights', histogram: { min: 0, max: 1, buckets: [1, 2] } }] },
      {
        wallTime: T0,
        step: 0,
        values: [{ tag: 'notes', tensor: { dtype: 'string', values: [0] }, plugin: 'text' }],
      },
      {
        wallTime: T0,
        step: 0,
        values: [
          {
            tag: 'kernel',
            tensor: { dtype: 'float', values: [1, 2, 3, 4], shape: [2, 2] },
            plugin: 'histograms',
          },
        ],
      },
      simpleScalar('loss', 0.5, 1, T0 + 1),
    ]);
    const { runs, log } = await readSource(dir);
    expect(runs[0].error).toBeUndefined();
    expect(metrics(runs[0].events).map(([k, v]) => [k, v])).toEqual([
      ['loss', 1],
      ['loss', 0.5],
    ]);
    expect(log.skips).toEqual([]);
    expect(log.notes).toHaveLength(1);
    expect(log.notes[0]).toContain('1 images (digits)');
    expect(log.notes[0]).toContain('3 histograms (weights, kernel)');
    expect(log.notes[0]).toContain('1 text (notes)');
  });
});
