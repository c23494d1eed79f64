/**
 * TensorBoard import end to end: event files written by the independent test writer, imported
 * with `transferRuns(tensorboardSource(dir))` into a real SQLite store, read back with the public
 * API (`omega().runtime.experiment(…).runs()` / `data()`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TrackingEvent } from 'omega-track';
import { omega, openStore } from 'omega-track';
import { tensorboardSource } from 'omega-track/internal';
import { transferRuns } from '../../cli/src/transfer/transferRuns';
import type { TransferSummary } from '../../cli/src/transfer/transferRuns';
import { recordOffsets, simpleScalar, tensorScalar, writeEventFile } from '../helpers/tensorboardWriter';
import { tempDir } from '../helpers/tmp';
import { CollectingLog } from './collectingLog';

const T0 = 1_700_000_000.123;

let tmp: { dir: string; cleanup: () => void };
let db: string;
beforeEach(() => {
  tmp = tempDir('omega-tbi-');
  db = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
});
afterEach(() => tmp.cleanup());

async function importDir(
  dir: string,
  opts: { experiment?: string } = {},
): Promise<{ summary: TransferSummary; log: CollectingLog }> {
  const target = openStore(db);
  const log = new CollectingLog();
  try {
    const summary = await transferRuns(tensorboardSource(dir, opts), { target, log });
    return { summary, log };
  } finally {
    await target.close();
  }
}

/** The experiment's runs and metric events, read back with the public API. */
async function readBack(experiment: string): Promise<{
  runs: Awaited<ReturnType<ReturnType<ReturnType<typeof omega>['runtime']['experiment']>['runs']>>;
  metrics: TrackingEvent[];
}> {
  const om = omega({ store: db });
  try {
    const exp = om.runtime.experiment(experiment);
    const runs = await exp.runs({ run: 'all' });
    const metrics = await exp.data({ run: 'all', event: 'metric' });
    return { runs, metrics };
  } finally {
    await om.close();
  }
}

const ms = (seconds: number): number => Math.round(seconds * 1000);

function writeKerasLike(logs: string): void {
  // what Keras' TensorBoard callback writes: logs/train and logs/validation, v2 tensor scalars
  writeEventFile(
    path.join(logs, 'train'),
    [
      tensorScalar('epoch_loss', 0.5, 0, T0 + 1),
      tensorScalar('epoch_loss', 0.25, 1, T0 + 2),
      tensorScalar('epoch_lr', 1e-3, 0, T0 + 1, 'double', 'val'),
    ],
    { host: 'trainer', suffix: '.77.1.v2' },
  );
  // what tfjs-node's tf.node.tensorBoard writes: simple_value
  writeEventFile(
    path.join(logs, 'validation'),
    [simpleScalar('epoch_loss', 0.75, 0, T0 + 1.5), simpleScalar('epoch_loss', NaN, 1, T0 + 2.5)],
    { host: 'trainer' },
  );
}

describe('transferRuns(tensorboardSource(dir)) into a SQLite store', () => {
  test('each run directory is a run with its name, times, node; each scalar a metric with its step and time', async () => {
    const logs = path.join(tmp.dir, 'fit');
    writeKerasLike(logs);
    const { summary, log } = await importDir(logs);
    // 5 metrics, and per run its name, its stop and the writer's import.source tag
    expect(summary).toMatchObject({ experiments: 1, runs: 2, alreadyThere: 0, failed: 0, events: 5 + 2 * 3 });
    expect(log.skips).toEqual([]);
    const { runs, metrics } = await readBack('fit');
    expect(
      runs.map((r) => [
        r.run,
        r.name,
        r.status,
        r.started?.getTime(),
        r.stopped?.getTime(),
        r.node,
        r.userid,
      ]),
    ).toEqual([
      [1, 'train', 'STOPPED', ms(T0 + 1), ms(T0 + 2), 'trainer', ''],
      [2, 'validation', 'STOPPED', ms(T0 + 1.5), ms(T0 + 2.5), 'trainer', ''],
    ]);
    expect(runs[0].tags).toEqual({
      'import.source': `tensorboard:${path.join(fs.realpathSync(logs), 'train')}`,
    });
    const rows = metrics.map((e) => [e.run, e.key, e.value, e.step, e.dt.getTime(), e.node, e.userid]);
    expect(rows).toEqual([
      [1, 'epoch_loss', 0.5, 0, ms(T0 + 1), 'trainer', ''],
      [1, 'epoch_lr', 1e-3, 0, ms(T0 + 1), 'trainer', ''],
      [2, 'epoch_loss', 0.75, 0, ms(T0 + 1.5), 'trainer', ''],
      [1, 'epoch_loss', 0.25, 1, ms(T0 + 2), 'trainer', ''],
      [2, 'epoch_loss', NaN, 1, ms(T0 + 2.5), 'trainer', ''],
    ]);
  });

  test('importing the same directory twice stores nothing twice', async () => {
    const logs = path.join(tmp.dir, 'fit');
    writeKerasLike(logs);
    await importDir(logs, { experiment: 'keras' });
    const again = await importDir(logs, { experiment: 'keras' });
    expect(again.summary).toMatchObject({ runs: 0, alreadyThere: 2, failed: 0, events: 0 });
    const { runs, metrics } = await readBack('keras');
    expect(runs.map((r) => r.name)).toEqual(['train', 'validation']);
    expect(metrics).toHaveLength(5);
  });

  test('a corrupt record in the middle: nothing of that run is stored, the other runs are', async () => {
    const logs = path.join(tmp.dir, 'logs');
    const events = [0, 1, 2].map((i) => simpleScalar('loss', i, i, T0 + i));
    const bad = writeEventFile(path.join(logs, 'bad'), events);
    writeEventFile(path.join(logs, 'good'), events);
    const bytes = fs.readFileSync(bad);
    const at = recordOffsets(events)[1];
    bytes[at + 14] ^= 0xff;
    fs.writeFileSync(bad, bytes);
    const { summary, log } = await importDir(logs);
    expect(summary).toMatchObject({ runs: 1, failed: 1 });
    expect(log.skips.map((s) => s.why)).toEqual([
      expect.stringContaining(
        `${bad}: the record at byte ${at} is corrupt: the CRC of its data does not match`,
      ),
    ]);
    const { runs, metrics } = await readBack('logs');
    expect(runs.map((r) => r.name)).toEqual(['good']);
    expect(metrics.map((e) => e.value)).toEqual([0, 1, 2]);
  });

  test('a truncated last record: the run is stored up to it, and the cut is said', async () => {
    const dir = path.join(tmp.dir, 'live');
    const events = [0, 1, 2, 3].map((i) => simpleScalar('loss', i, i, T0 + i));
    const file = writeEventFile(dir, events);
    const offsets = recordOffsets(events);
    fs.truncateSync(file, offsets[3] + 20);
    const { summary, log } = await importDir(dir);
    expect(summary).toMatchObject({ runs: 1, failed: 0 });
    expect(log.skips).toEqual([
      {
        what: file,
        why: expect.stringContaining(
          `the last record is cut off at byte ${offsets[3]}; the 4 records before it were read`,
        ),
      },
    ]);
    const { runs, metrics } = await readBack('live');
    expect(runs[0].stopped?.getTime()).toBe(ms(T0 + 2));
    expect(metrics.map((e) => [e.value, e.step])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });

  test('non-scalar summaries are left out and said; the scalars beside them are stored', async () => {
    const dir = path.join(tmp.dir, 'mixed');
    writeEventFile(dir, [
      simpleScalar('loss', 1, 0, T0),
      {
        wallTime: T0,
        step: 0,
        values: [{ tag: 'digits', image: { width: 1, height: 1, png: Buffer.from('x') } }],
      },
      { wallTime: T0 + 1, step: 1, values: [{ tag: 'w', histogram: { min: 0, max: 1, buckets: [1] } }] },
    ]);
    const { summary, log } = await importDir(dir);
    expect(summary).toMatchObject({ runs: 1, failed: 0, skipped: [] });
    expect(log.notes.join('\n')).toMatch(/1 images \(digits\).*1 histograms \(w\)/);
    const { metrics } = await readBack('mixed');
    expect(metrics.map((e) => [e.key, e.value])).toEqual([['loss', 1]]);
  });
});
