/**
 * What a page's `om` refuses and what it stores, in real Chromium against a real
 * `omega-track server`: runtime tasks are refused with a TrackingInputError (a page has no model
 * backend and no queue), experiments work, and a typed array logged as an artifact is stored.
 */
import { createToken, suiteRig } from './pageHarness';

jest.setTimeout(180_000);

const rig = suiteRig();

test('in a page, runtime tasks are refused with a TrackingInputError, and a typed array artifact is stored', async () => {
  const token = createToken(rig.store, 'runtime-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/runtime.html');
  const page = await rig.page.evaluate(
    async ({ url, token }) => {
      const { omega, TrackingInputError } = (globalThis as any).ot;
      const om = omega({ store: url, token });
      const refused = (call: () => unknown): Promise<string> =>
        Promise.resolve()
          .then(call)
          .then(
            () => 'accepted',
            (e: unknown) =>
              e instanceof TrackingInputError ? `TrackingInputError: ${(e as Error).message}` : String(e),
          );
      const model = await refused(() => om.runtime.model('m'));
      // stores a page cannot open: none given, and an embedded one (its password never shown)
      const noStore = await refused(() => omega({ token }));
      const embedded = await refused(() => omega({ store: 'postgres://u:secret@db/x', token }));
      const task = await refused(() => om.runtime.task('t-1'));
      const exp = om.runtime.experiment('demo/runtime');
      const run = await exp.run(async (e: any) => {
        e.logArtifact(new Float32Array([1.5, 2.5, 3.5]), 'weights');
        return e.currentRun;
      });
      await om.close();
      return { model, task, run, noStore, embedded };
    },
    { url: rig.server.url, token },
  );
  expect(page.model).toMatch(/^TrackingInputError: om\.runtime\.model\('m'\) cannot be used in a page/);
  expect(page.noStore).toMatch(/^TrackingInputError: no store given: a page logs to a team server/);
  expect(page.embedded).toMatch(/^TrackingInputError: store 'postgres:\/\/u:\*+@db\/x' is not for a page/);
  expect(page.embedded).not.toContain('secret');
  expect(page.task).toMatch(/^TrackingInputError: om\.runtime\.task\('t-1'\) cannot be used in a page/);
  const [weights] = await rig.readStore((om) =>
    om.runtime.experiment('demo/runtime').restoreArtifacts({ run: page.run, key: 'weights' }),
  );
  expect(weights).toBeInstanceOf(Float32Array);
  expect(Array.from(weights as Float32Array)).toEqual([1.5, 2.5, 3.5]);
});
