/**
 * A custom provider: a class extending OmegaSimpleTracker (or TrackingProvider itself),
 * registered by name and chosen per experiment. This one also prints every metric as it is
 * logged, e.g. to follow a long run in a terminal, and stores everything as `default` does.
 */
import { OmegaSimpleTracker, omega } from 'omega-track';

class ConsoleEchoTracker extends OmegaSimpleTracker {
  // Single events (logMetric, logParam, logEvent) arrive here; batches (logEvents, artifacts)
  // arrive in record(). Both are synchronous and must not do I/O: the base class queues.
  protected override recordEvent(
    run: number,
    event: string,
    key: string,
    value: unknown,
    step: number | null,
    dt: number,
    userid: string,
    extra: Record<string, unknown> | undefined,
  ): void {
    if (event === 'metric') console.log(`[${this.experiment} run ${run}] ${key} = ${String(value)}`);
    super.recordEvent(run, event, key, value, step, dt, userid, extra);
  }
}

async function main(): Promise<void> {
  const om = omega({ store: process.env.OMEGA_STORE ?? 'memory:' });
  om.registry.register('console-echo', ConsoleEchoTracker);
  const exp = om.runtime.experiment('custom-demo', { provider: 'console-echo' });
  await exp.run((e) => {
    for (let step = 0; step < 3; step++) e.logMetric('loss', 1 / (step + 1), step);
  });
  const stored = await exp.data({ event: 'metric' });
  console.log(
    `stored ${stored.length} metrics through provider '${(await om.experiments.get('custom-demo'))?.provider}'`,
  );
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
