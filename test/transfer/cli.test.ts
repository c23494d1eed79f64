import fs from 'node:fs';
import path from 'node:path';
import { setDiagWriter } from 'omega-track';
import { cliIn } from '../cli/cliRunner';
import { simpleScalar, tensorScalar, writeEventFile } from '../helpers/tensorboardWriter';
import { tempDir } from '../helpers/tmp';
import { FakeMlflowServer } from '../mlflow/FakeMlflowServer';
import { logSample, snapshot, withOmega } from './sampleRuns';

// `omega-track export` and `import` on the command line: files both ways, an MLflow server both
// ways, TensorBoard in; summaries, exit codes, and what bad command lines are told.

setDiagWriter(() => undefined);

let tmp: ReturnType<typeof tempDir>;
let source: string;
beforeAll(async () => {
  tmp = tempDir('transfer-cli');
  source = `sqlite:${path.join(tmp.dir, 'source.db')}`;
  await withOmega(source, (om) => logSample(om, 'vision/a', { bulk: 1, points: 3_000 }));
  await withOmega(source, (om) => logSample(om, 'vision/b'));
});
afterAll(() => tmp.cleanup());

const at = (name: string): string => path.join(tmp.dir, name);

test.each(['jsonl', 'parquet'])(
  'export --format %s then import into a new store: the same runs, twice stores nothing twice',
  async (format) => {
    const out = at(`export-${format}`);
    const exported = await cliIn({}, [
      'export',
      'vision/*',
      '--format',
      format,
      '--out',
      out,
      '--store',
      source,
    ]);
    expect(exported.err).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.out).toMatch(
      new RegExp(
        `^exported 9 runs \\([\\d,]+ events, 6 artifact files of [\\d,]+ bytes\\) of 2 experiments as ${format} to `,
      ),
    );
    expect(fs.existsSync(path.join(out, 'manifest.json'))).toBe(true);

    const target = `sqlite:${at(`import-${format}.db`)}`;
    const imported = await cliIn({}, ['import', out, '--store', target]);
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/^imported 9 runs .* of 2 experiments from /);
    for (const name of ['vision/a', 'vision/b'])
      expect(await withOmega(target, (om) => snapshot(om, name))).toEqual(
        await withOmega(source, (om) => snapshot(om, name)),
      );
    const again = await cliIn({}, ['import', out, '--store', target]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^imported 0 runs .*; 9 already there \(nothing stored twice\)/);
  },
);

test('export --to mlflow, then import --from mlflow into a new store; both again store nothing twice', async () => {
  const fake = new FakeMlflowServer();
  await fake.start();
  try {
    const pushed = await cliIn({}, [
      'export',
      'vision/b',
      '--to',
      'mlflow',
      '--uri',
      fake.url,
      '--store',
      source,
    ]);
    // the run still running is sent as it is, and said
    expect(pushed.err).toBe(
      "omega-track export: run 4 of 'vision/b' is still running: sent as it is now (the next push replaces it)\n",
    );
    expect(pushed.code).toBe(0);
    expect(pushed.out).toMatch(/^pushed 4 runs \([\d,]+ events\) of 1 experiment to http:/);
    const pushedAgain = await cliIn({}, [
      'export',
      'vision/b',
      '--to',
      'mlflow',
      '--uri',
      fake.url,
      '--store',
      source,
    ]);
    expect(pushedAgain.out).toMatch(/^pushed 1 run .*; 3 already there \(nothing sent twice\)/);

    // an MLflow experiment whose name the store cannot hold is left out, and said
    const made = await fetch(`${fake.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '..' }),
    });
    expect(made.ok).toBe(true);
    const { experiment_id } = (await made.json()) as { experiment_id: string };
    const run = await fetch(`${fake.url}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ experiment_id, start_time: 1_700_000_000_000 }),
    });
    expect(run.ok).toBe(true);
    const all = await cliIn({}, [
      'import',
      '--from',
      'mlflow',
      '--uri',
      fake.url,
      '--store',
      `sqlite:${at('all-mlflow.db')}`,
    ]);
    expect(all.code).toBe(1);
    expect(all.err).toMatch(/experiment '\.\.': .*its runs were not written/);
    expect(all.out).toMatch(/^imported 4 runs .* of 1 experiment/);

    const target = `sqlite:${at('from-mlflow.db')}`;
    const imported = await cliIn({}, [
      'import',
      '--from',
      'mlflow',
      '--uri',
      fake.url,
      '--experiment',
      'vision/b',
      '--store',
      target,
    ]);
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/^imported 4 runs .* of 1 experiment from /);
    await withOmega(target, async (om) => {
      const runs = await om.runtime.experiment('vision/b').runs({ run: 'all' });
      expect(runs.map((r) => r.name)).toEqual(
        ['first', expect.any(String), 'broken', 'still running'].slice(0, runs.length),
      );
      expect(runs[0].tags?.['import.source']).toMatch(/^mlflow:http:\/\/127\.0\.0\.1:\d+#/);
      expect(runs[0].metrics?.loss?.count).toBe(50);
    });
    const importedAgain = await cliIn({}, [
      'import',
      '--from',
      'mlflow',
      '--uri',
      fake.url,
      '--experiment',
      'vision/b',
      '--store',
      target,
    ]);
    expect(importedAgain.out).toMatch(/imported 0 runs .*; 4 already there/);
  } finally {
    await fake.stop();
  }
});

test('import --from tensorboard: one run per folder with event files, scalars as metrics', async () => {
  const logs = at('tblogs');
  writeEventFile(path.join(logs, 'train'), [
    simpleScalar('loss', 0.5, 1, 1_700_000_001.25),
    simpleScalar('loss', 0.25, 2, 1_700_000_002.5),
  ]);
  writeEventFile(path.join(logs, 'validation'), [tensorScalar('epoch_loss', 0.75, 1, 1_700_000_001.5)]);
  const target = `sqlite:${at('tb.db')}`;
  const imported = await cliIn({}, [
    'import',
    '--from',
    'tensorboard',
    logs,
    '--experiment',
    'mnist',
    '--store',
    target,
  ]);
  expect(imported.err).toBe('');
  expect(imported.code).toBe(0);
  expect(imported.out).toMatch(/^imported 2 runs \(\d+ events\) of 1 experiment from /);
  await withOmega(target, async (om) => {
    const exp = om.runtime.experiment('mnist');
    expect((await exp.runs({ run: 'all' })).map((r) => r.name)).toEqual(['train', 'validation']);
    const loss = await exp.data({ run: 1, event: 'metric', key: 'loss' });
    expect(loss.map((r) => [r.value, r.step, r.dt.getTime()])).toEqual([
      [0.5, 1, 1_700_000_001_250],
      [0.25, 2, 1_700_000_002_500],
    ]);
  });
  const empty = at('no-events');
  fs.mkdirSync(empty);
  const none = await cliIn({}, ['import', '--from', 'tensorboard', empty, '--store', target]);
  expect(none.code).toBe(1);
  expect(none.err).toMatch(/no TensorBoard event files/);
});

test('bad command lines are told what is wrong, and nothing is written', async () => {
  const store = `sqlite:${at('bad.db')}`;
  const cases: Array<[string[], RegExp]> = [
    [['import'], /name the export to import/],
    [['import', 'a', 'b'], /name the export to import/],
    [['import', '--from', 'wandb', 'x'], /--from takes mlflow or tensorboard/],
    [['import', '--from', 'mlflow'], /name the MLflow server: --uri/],
    [['import', at('nothing-here')], /no complete omega-track export|does not exist|no such/i],
    [['export'], /name the experiments to export/],
    [['export', 'vision/*'], /--format takes parquet or jsonl/],
    [
      ['export', 'vision/*', '--format', 'csv', '--out', at('x')],
      /--format takes parquet or jsonl, got 'csv'/,
    ],
    [['export', 'vision/*', '--format', 'jsonl'], /--out PATH/],
    [['export', 'vision/*', '--to', 'wandb'], /--to takes mlflow/],
    [
      ['export', 'nothing*', '--format', 'jsonl', '--out', at('y')],
      /no experiment of the store matches 'nothing\*'/,
    ],
  ];
  for (const [argv, message] of cases) {
    const r = await cliIn({ MLFLOW_TRACKING_URI: '' }, [
      ...argv,
      '--store',
      argv[0] === 'export' ? source : store,
    ]);
    expect([argv, r.code, r.err]).toEqual([argv, 1, expect.stringMatching(message)]);
  }
  expect(fs.existsSync(at('y'))).toBe(false);
});
