/**
 * Runs written into an MLflow server through its REST API (as any MLflow client writes them), for
 * the tests of `import --from mlflow` and `export --to mlflow`, against the fake or a real server.
 */
import type { MlflowMetric } from 'omega-track/internal';
import { MlflowClient } from 'omega-track/internal';

/** What seedMlflow wrote, to compare an import with. */
export interface SeededMlflow {
  train: string;
  other: string;
  t0: number;
  parent: string;
  child: string;
  killed: string;
  running: string;
  otherRun: string;
  /** loss: one point per step 0…LOSS_POINTS-1 at t0 + step. */
  lossPoints: number;
  /** acc, as sent: duplicates at one step, NaN and ±Infinity. */
  acc: Array<{ value: number; step: number; timestamp: number }>;
  artifacts: Record<string, Buffer>;
}

export const LOSS_POINTS = 30_000;

async function logMetrics(client: MlflowClient, runId: string, metrics: MlflowMetric[]): Promise<void> {
  for (let i = 0; i < metrics.length; i += 1000)
    await client.logBatch(runId, { metrics: metrics.slice(i, i + 1000) });
}

/**
 * Two experiments: `train<suffix>` with a parent run (FINISHED, tags, params, a note, a history of
 * 30,000 points, another with duplicates at one step and non-finite values, artifact files in a
 * folder), its child (FAILED, started before it), a KILLED and a RUNNING run; `other<suffix>` with
 * one run.
 */
export async function seedMlflow(uri: string, suffix = ''): Promise<SeededMlflow> {
  const client = new MlflowClient({ trackingUri: uri });
  const train = `train${suffix}`;
  const other = `other${suffix}`;
  const trainId = (await client.ensureExperiment(train)).experiment_id;
  const otherId = (await client.ensureExperiment(other)).experiment_id;
  const t0 = 1_700_000_000_000;
  const tags = (o: Record<string, string>) => Object.entries(o).map(([key, value]) => ({ key, value }));

  const parent = (
    await client.createRun(
      trainId,
      'baseline',
      t0,
      tags({
        team: 'vision',
        'mlflow.user': 'alice',
        'mlflow.source.name': 'train.py',
        'mlflow.note.content': 'first try',
      }),
      'alice',
    )
  ).info.run_id;
  await client.logBatch(parent, {
    params: tags({ lr: '0.001', layers: '[64, 32]', optimizer: 'adam' }),
  });
  const loss: MlflowMetric[] = [];
  for (let step = 0; step < LOSS_POINTS; step++)
    loss.push({ key: 'loss', value: 1 / (step + 1), timestamp: t0 + step, step });
  await logMetrics(client, parent, loss);
  const acc = [
    { value: 0.5, step: 0, timestamp: t0 + 10 },
    { value: 0.6, step: 1, timestamp: t0 + 20 },
    { value: 0.65, step: 1, timestamp: t0 + 25 },
    { value: NaN, step: 2, timestamp: t0 + 30 },
    { value: Infinity, step: 3, timestamp: t0 + 40 },
    { value: -Infinity, step: 4, timestamp: t0 + 50 },
  ];
  await client.logBatch(parent, {
    metrics: acc.map((p) => ({
      key: 'acc',
      value: Number.isNaN(p.value)
        ? 'NaN'
        : p.value === Infinity
          ? 'Infinity'
          : p.value === -Infinity
            ? '-Infinity'
            : p.value,
      timestamp: p.timestamp,
      step: p.step,
    })),
  });
  const artifacts: Record<string, Buffer> = {
    'model/weights.bin': Buffer.from([0, 1, 2, 3, 254, 255]),
    'model/config/arch.json': Buffer.from('{"layers":[64,32]}'),
    'notes.txt': Buffer.from('converged at step 29999\n'),
  };
  const parentInfo = (await client.getRun(parent)).info;
  for (const [file, data] of Object.entries(artifacts))
    await client.uploadArtifact(parentInfo.artifact_uri, file, data);
  await client.updateRun(parent, 'FINISHED', t0 + LOSS_POINTS + 1000);

  // the child started before its parent: an import must still write the parent first
  const child = (
    await client.createRun(
      trainId,
      'child',
      t0 - 5000,
      tags({ 'mlflow.parentRunId': parent, fold: '1' }),
      'bob',
    )
  ).info.run_id;
  await logMetrics(client, child, [{ key: 'val_loss', value: 0.9, timestamp: t0 - 4000, step: 0 }]);
  await client.updateRun(child, 'FAILED', t0 - 3000);

  const killed = (await client.createRun(trainId, 'killed', t0 + 100, [], 'carol')).info.run_id;
  await client.updateRun(killed, 'KILLED', t0 + 200);
  const running = (await client.createRun(trainId, 'running', t0 + 300, [], 'dave')).info.run_id;
  await logMetrics(client, running, [{ key: 'loss', value: 2, timestamp: t0 + 310, step: 0 }]);

  const otherRun = (await client.createRun(otherId, 'solo', t0, [], 'erin')).info.run_id;
  await logMetrics(client, otherRun, [{ key: 'score', value: 42, timestamp: t0 + 1, step: 7 }]);
  await client.updateRun(otherRun, 'FINISHED', t0 + 2);

  return {
    train,
    other,
    t0,
    parent,
    child,
    killed,
    running,
    otherRun,
    lossPoints: LOSS_POINTS,
    acc,
    artifacts,
  };
}
