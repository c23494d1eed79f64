/** The most an MLflow server takes in: back-to-back `log-batch` requests of 1,000 metrics each. */
import type { MlflowClient } from 'omega-track/internal';

/** Metrics per second `count` metrics took into a new run `name` of `experimentId`. */
export async function mlflowBatchRate(
  client: MlflowClient,
  experimentId: string,
  name: string,
  count: number,
): Promise<number> {
  const run = await client.createRun(experimentId, name, Date.now(), []);
  const t0 = performance.now();
  for (let b = 0; b < count; b += 1000) {
    const ts = Date.now();
    const metrics = Array.from({ length: 1000 }, (_, i) => ({
      key: 'm',
      value: b + i,
      timestamp: ts,
      step: b + i,
    }));
    await client.logBatch(run.info.run_id, { metrics });
  }
  return (count / (performance.now() - t0)) * 1000;
}
