/**
 * A page on plain http under a host name other than localhost is no secure context: it has no
 * Web Locks and no crypto.randomUUID. The client still works there: its spool is held by a lease
 * the page renews (and gives up as it goes), and what a reloaded page left ships once.
 */
import { clientPage, createToken, suiteRig } from './pageHarness';

jest.setTimeout(180_000);

const rig = suiteRig({ pageHost: 'lab-page.test' });

async function metrics(run: number): Promise<number[]> {
  return (await rig.serverData('demo/insecure', { run, event: 'metric' })).map((r) => r.value as number);
}

test('in an insecure context (no Web Locks, no randomUUID) a page logs, is reloaded while the server is down, and the next page ships what it left exactly once', async () => {
  const token = createToken(rig.store, 'insecure-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/insecure.html', clientPage(''));
  const context = await rig.page.evaluate(() => {
    const g = globalThis as any;
    return {
      secure: g.isSecureContext,
      locks: typeof g.navigator.locks,
      randomUUID: typeof g.crypto.randomUUID,
    };
  });
  expect(context).toEqual({ secure: false, locks: 'undefined', randomUUID: 'undefined' });
  const run = await rig.page.evaluate(
    async ({ url, token }) => {
      const g = globalThis as any;
      g.om = g.ot.omega({ store: url, token });
      g.exp = g.om.runtime.experiment('demo/insecure');
      await g.exp.start();
      for (let i = 0; i < 500; i++) g.exp.logMetric('x', i, i);
      await g.exp.flush();
      return g.exp.currentRun as number;
    },
    { url: rig.server.url, token },
  );
  await rig.server.close();
  await rig.page.evaluate(async () => {
    const g = globalThis as any;
    for (let i = 500; i < 1000; i++) g.exp.logMetric('x', i, i);
    await g.exp.flush();
  });
  await rig.reloadAndOpenStore(token);
  await rig.server.restart();
  const end = Date.now() + 60_000;
  let values: number[] = [];
  while (Date.now() < end) {
    values = await metrics(run);
    if (values.length >= 1000) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await new Promise((r) => setTimeout(r, 1000));
  expect(await metrics(run)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
});
