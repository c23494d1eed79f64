import type { SweepParams, SweepSpec } from 'omega-track';
import { TrackingInputError } from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';

const { om } = omegaPerTest();

describe('exp.sweep in process (issue 25)', () => {
  test('a grid over 2 × 3 values runs 6 trials as child runs of the sweep run, with their params', async () => {
    const exp = om().runtime.experiment('grid');
    const seen: SweepParams[] = [];
    const result = await exp.sweep(
      {
        space: { lr: [0.1, 0.01], units: [8, 16, 32] },
        method: 'grid',
        metric: 'loss',
        goal: 'minimize',
        parallel: 2,
      },
      async (params, e) => {
        seen.push(params);
        // the loss is smallest for lr 0.01 and 32 units
        for (let step = 0; step < 3; step++)
          e.logMetric(
            'loss',
            (params.lr as number) * 100 + 1 / (params.units as number) + 1 / (step + 1),
            step,
          );
      },
    );
    expect(seen).toHaveLength(6);
    const combos = seen.map((p) => `${p.lr}/${p.units}`).sort();
    expect(combos).toEqual(['0.01/16', '0.01/32', '0.01/8', '0.1/16', '0.1/32', '0.1/8']);
    const runs = await exp.runs();
    const sweep = runs.find((r) => r.run === result.run)!;
    expect(sweep.tags).toMatchObject({ sweep: true });
    expect(sweep.name).toBe(`sweep-${result.run}`);
    expect(sweep.params).toMatchObject({
      method: 'grid',
      metric: 'loss',
      goal: 'minimize',
      maxTrials: 6,
      parallel: 2,
    });
    expect(sweep.status).toBe('STOPPED');
    const children = runs.filter((r) => r.parent === result.run);
    expect(children).toHaveLength(6);
    for (const child of children) {
      expect(child.status).toBe('STOPPED');
      const trial = result.trials.find((t) => t.run === child.run)!;
      expect(child.params).toEqual(trial.params);
      expect(child.tags?.['sweep.trial']).toBe(trial.trial);
      expect(child.metrics?.loss.min).toBeCloseTo(trial.value!);
    }
    // ranked best first; the best is the minimum of the metric
    expect(result.trials.map((t) => t.value)).toEqual(
      [...result.trials.map((t) => t.value!)].sort((a, b) => a - b),
    );
    expect(result.best?.params).toEqual({ lr: 0.01, units: 32 });
    expect(result.best?.value).toBeCloseTo(1 + 1 / 32 + 1 / 3);
  });

  test('the number a trial returns is its value; a trial that throws ends FAILED and ranks last', async () => {
    const exp = om().runtime.experiment('returns');
    const result = await exp.sweep(
      { space: { x: [1, 2, 3, 4] }, method: 'grid', metric: 'acc', goal: 'maximize' },
      (params) => {
        if (params.x === 4) throw new Error('boom at 4');
        return (params.x as number) * 10;
      },
    );
    expect(result.trials.map((t) => [t.params.x, t.value, t.status])).toEqual([
      [3, 30, 'STOPPED'],
      [2, 20, 'STOPPED'],
      [1, 10, 'STOPPED'],
      [4, undefined, 'FAILED'],
    ]);
    expect(result.trials[3].error).toContain('boom at 4');
    expect(result.best).toEqual({ params: { x: 3 }, value: 30, run: result.trials[0].run });
    const failed = (await exp.runs()).find((r) => r.run === result.trials[3].run)!;
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toContain('boom at 4');
  });

  test('random with a seed draws the same trials again; ranges stay in bounds (log, int)', async () => {
    const exp = om().runtime.experiment('random');
    const spec: SweepSpec = {
      space: {
        lr: { min: 1e-4, max: 1e-1, scale: 'log' },
        units: { min: 4, max: 64, int: true },
        act: { choice: ['relu', 'tanh'] },
      },
      method: 'random',
      metric: 'loss',
      goal: 'minimize',
      maxTrials: 8,
      seed: 42,
    };
    const draw = async (s: SweepSpec): Promise<SweepParams[]> => {
      const params: SweepParams[] = [];
      await exp.sweep(s, (p) => {
        params.push(p);
        return 0;
      });
      return params;
    };
    const a = await draw(spec);
    const b = await draw(spec);
    expect(a).toHaveLength(8);
    expect(b).toEqual(a);
    const c = await draw({ ...spec, seed: 43 });
    expect(c).not.toEqual(a);
    for (const p of a) {
      expect(p.lr).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(p.units)).toBe(true);
      expect(['relu', 'tanh']).toContain(p.act);
    }
    // log scale: about as many draws below 1e-2.5 as above
    expect(new Set(a.map((p) => p.act)).size).toBe(2);
  });

  test('a trial that changes its params object changes nothing the sweep records', async () => {
    const exp = om().runtime.experiment('mutate');
    const result = await exp.sweep(
      { space: { units: [4, 8] }, method: 'grid', metric: 'loss', goal: 'minimize' },
      (params) => {
        const units = params.units as number;
        Object.assign(params, { units: 64, dropout: 0.5 });
        return units;
      },
    );
    expect(result.best?.params).toEqual({ units: 4 });
    expect(result.trials.map((t) => t.params)).toEqual([{ units: 4 }, { units: 8 }]);
  });

  test('parallel far above the trials runs as many lanes as there are trials', async () => {
    const exp = om().runtime.experiment('lanes');
    const result = await exp.sweep(
      { space: { a: [1, 2] }, method: 'grid', metric: 'loss', goal: 'minimize', parallel: 1e9 },
      (params) => params.a,
    );
    expect(result.trials.map((t) => t.value)).toEqual([1, 2]);
  });

  test.each([
    [{ method: 'bayes' }, 'method'],
    [{ goal: 'lowest' }, 'goal'],
    [{ space: {} }, 'space'],
    [{ space: { lr: { min: 1, max: 1 } } }, 'space.lr'],
    [{ space: { lr: { min: 0, max: 1, scale: 'log' } } }, 'space.lr'],
    [{ maxTrials: 0 }, 'maxTrials'],
    [{ parallel: 0 }, 'parallel'],
    [{ method: 'grid', space: { lr: { min: 0.1, max: 1 } } }, 'space.lr'],
    [{ space: { lr: [] } }, 'space.lr'],
    [{ earlyStop: { type: 'hyperband' } }, 'earlyStop.type'],
    // a typo is said, not ignored (maxTrails ran 10 trials, sclae sampled linearly)
    [{ maxTrails: 3 }, 'maxTrails'],
    [{ space: { lr: { min: 0.001, max: 1, sclae: 'log' } } }, 'space.lr.sclae'],
    // a run's params keep no NaN or Infinity: both would read back as null
    [{ space: { lr: [0.1, NaN] } }, 'space.lr'],
    [{ space: { lr: { choice: [Infinity] } } }, 'space.lr.choice'],
    // counted before it is made: a billion whole numbers once crashed the process
    [{ method: 'grid', space: { a: { min: 0, max: 1e9, int: true } } }, 'more than 100,000 points'],
    [{ method: 'grid', space: { a: { min: 0, max: 1, steps: 1e9 } } }, 'more than 100,000 points'],
  ])('bad spec %j: a TrackingInputError naming %s, and no run started', async (change, field) => {
    const exp = om().runtime.experiment('bad');
    const spec = { space: { lr: [0.1] }, method: 'random', metric: 'loss', goal: 'minimize', ...change };
    let trials = 0;
    const error = await exp
      .sweep(spec as SweepSpec, () => {
        trials++;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrackingInputError);
    expect((error as Error).message).toContain(field);
    expect(trials).toBe(0);
    expect(await exp.runs()).toEqual([]);
  });
});
