/**
 * Events a page logged just before it is reloaded (still in the provider's queue: no flush
 * awaited) are written as the page goes (pagehide) — into localStorage as well, since a browser
 * may drop an IndexedDB write begun then — and the next page of the origin, adopting the spool,
 * ships them: all 300 reach the server, once, in order.
 */
import { createToken, suiteRig } from './pageHarness';

jest.setTimeout(120_000);

const rig = suiteRig();

async function metricSteps(experiment: string, run: number): Promise<number[]> {
  return (await rig.serverData(experiment, { run, event: 'metric' })).map((r) => r.step as number);
}

test('metrics logged right before a reload (no flush awaited) are all stored once the next page ships the spool', async () => {
  const token = createToken(rig.store, 'reload-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/reload.html');
  const run = await rig.page.evaluate(
    async ({ url, token }) => {
      const g = globalThis as any;
      const om = g.ot.omega({ store: url, token });
      const exp = om.runtime.experiment('demo/reload');
      await exp.start();
      // a training loop's last metrics: recording calls are synchronous enqueues
      for (let i = 0; i < 300; i++) exp.logMetric('x', i, i);
      return exp.currentRun as number;
    },
    { url: rig.server.url, token },
  );
  // the user reloads at once: pagehide must get these into IndexedDB
  await rig.reloadAndOpenStore(token);
  // orphans are looked for at once, after 1 s and 3 s, then every 10 s
  let steps: number[] = [];
  const end = Date.now() + 25_000;
  while (Date.now() < end) {
    steps = await metricSteps('demo/reload', run);
    if (steps.length >= 300) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(steps).toEqual(Array.from({ length: 300 }, (_, i) => i));
});
