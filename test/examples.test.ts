import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/tmp';
import { FakeMlflowServer } from './mlflow/FakeMlflowServer';

const examplesDir = path.join(__dirname, '..', 'examples', 'dist');

/** Runs a compiled example on a temporary store and returns what it printed. */
function runExample(name: string, env: NodeJS.ProcessEnv = {}): string {
  const tmp = tempDir();
  try {
    return execFileSync(process.execPath, [path.join(examplesDir, `${name}.js`)], {
      cwd: tmp.dir,
      env: { ...process.env, OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}`, ...env },
      timeout: 120_000,
    }).toString();
  } finally {
    tmp.cleanup();
  }
}

describe('examples run as smoke tests', () => {
  test('every example has a smoke test here', () => {
    const examples = fs
      .readdirSync(examplesDir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.replace(/\.js$/, ''));
    expect(examples.sort()).toEqual([
      'autolog',
      'custom-provider',
      'mlflow',
      'quickstart',
      'runtime',
      'tensorflow-callback',
    ]);
  });

  test('runtime fits, scores and predicts a custom model as tracked tasks', () => {
    const out = runExample('runtime');
    const r2 = Number(/R² on the training data: (\S+)/.exec(out)?.[1]);
    expect(r2).toBeGreaterThan(0.99);
    expect(out).toMatch(
      /prediction for \[0\.5, 0\.5\]: \[ 1\.49\d*|prediction for \[0\.5, 0\.5\]: \[ 1\.50\d*/,
    );
    expect(out).toMatch(
      /run 1: start, task_call, artifact, (metric:loss, )+task_success, task_call, artifact, metric:score, task_success, task_call, artifact, task_success, stop/,
    );
  });

  test('quickstart trains a tfjs classifier, tracks it and prints the summary', () => {
    const out = runExample('quickstart');
    expect(out).toMatch(/experiment 'quickstart', run 1/);
    expect(out).toMatch(/epoch\s+loss\s+acc\s+val_loss\s+val_acc/);
    const epochs = out.match(/^\s+\d+(\s+\d\.\d{4}){4}$/gm) ?? [];
    expect(epochs).toHaveLength(8);
    const lastAcc = Number(epochs[7].trim().split(/\s+/)[2]);
    expect(lastAcc).toBeGreaterThan(0.8);
    expect(out).toMatch(
      /run 1: STOPPED in \d+ ms; the saved model, restored, puts the three blob centres in classes 0, 1, 2/,
    );
    expect(out).toContain('npx omega-track summary quickstart');
  });

  test('tensorflow-callback tracks batches, early stopping and fitDataset', () => {
    const out = runExample('tensorflow-callback');
    expect(out).toMatch(/fit: \d+ epochs tracked .*batch samples at steps 0, 10, 20/);
    expect(out).toMatch(/acc\s+count 3/);
    expect(out).toMatch(/loss\s+count 3/);
  });

  test('mlflow says what it needs when MLFLOW_TRACKING_URI is unset', () => {
    expect(runExample('mlflow', { MLFLOW_TRACKING_URI: '' })).toContain('MLFLOW_TRACKING_URI is not set');
  });

  test('mlflow against an MLflow server sends metrics, system metrics and the notes.json file', async () => {
    // the fake server answers in this process: the example runs without blocking its event loop
    const fake = new FakeMlflowServer();
    await fake.start();
    const tmp = tempDir();
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [path.join(examplesDir, 'mlflow.js')],
          {
            cwd: tmp.dir,
            env: {
              ...process.env,
              OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}`,
              MLFLOW_TRACKING_URI: fake.url,
            },
            timeout: 120_000,
          },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
        ),
      );
      expect(out).toMatch(/run 1: STOPPED; metrics in MLflow:/);
      expect(out).toMatch(/^ {2}loss: last 0\.2, mean/m);
      const samples = Number(/^ {2}cpu_load: (\d+) samples/m.exec(out)?.[1]);
      expect(samples).toBeGreaterThanOrEqual(2);
      expect(out).toMatch(/^ {2}memory_used: \d+ samples/m);
      expect(out).toContain(`artifact 'notes': {"note":`);
      const [run] = fake.runsOf(fake.experimentByName('omega-track-mlflow-example')!.experiment_id);
      expect(fake.metricHistory(run.info.run_id, 'system/cpu_utilization_percentage')).toHaveLength(samples);
      expect(run.info.user_id).not.toBe('');
      expect([...fake.artifactFiles().keys()].some((k) => k.endsWith('/artifacts/notes.json'))).toBe(true);
    } finally {
      await fake.stop();
      tmp.cleanup();
    }
  });

  test('autolog tracks a fit without callbacks, and stops after disable()', () => {
    expect(runExample('autolog')).toContain(
      'with autolog: 8 metrics (loss, acc); after autolog.disable(): 0',
    );
  });

  test('custom-provider registers and uses its own provider', () => {
    const out = runExample('custom-provider');
    expect(out).toContain('[custom-demo run 1] loss = 0.5');
    expect(out).toContain("stored 3 metrics through provider 'console-echo'");
  });
});
