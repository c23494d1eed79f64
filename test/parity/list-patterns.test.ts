/**
 * Issue 9, point 7: `om.models.list` / `om.datasets.list` take omega-ml's fnmatch patterns
 * (`*`, `?`, `[…]`, `[!…]`), so `om.models.list('experiments/*')` lists the experiments; a plain
 * name or prefix still lists the names that start with it.
 */
import { parseNamePattern } from '@omega-track/core/internal';
import { TrackingInputError } from 'omega-track';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

describe('list patterns', () => {
  let s: ParityStore;
  beforeEach(async () => {
    s = parityStore();
    for (const name of ['exp1', 'exp2', 'expA', 'team/x', 'team/y/z'])
      await s.om.runtime.experiment(name).run(() => undefined);
    for (const name of ['mymodel', 'mymodel2', 'my*star', 'a[b', '🚀/model', 'Mymodel'])
      await s.om.models.put({ name }, name);
    await s.om.datasets.put([1, 2], 'sales/2024');
    await s.om.datasets.put([3], 'sales/2025');
    await s.om.datasets.put([4], 'costs/2024');
  });
  afterEach(() => s.close());

  test("list('experiments/*') lists every experiment entry, nested names included", async () => {
    expect(await s.om.models.list('experiments/*')).toEqual([
      'experiments/exp1',
      'experiments/exp2',
      'experiments/expA',
      'experiments/team/x',
      'experiments/team/y/z',
    ]);
  });

  test('? matches one character, […] one of a set or range, [!…] one not in it', async () => {
    expect(await s.om.models.list('experiments/exp?')).toEqual([
      'experiments/exp1',
      'experiments/exp2',
      'experiments/expA',
    ]);
    expect(await s.om.models.list('experiments/exp[0-9]')).toEqual(['experiments/exp1', 'experiments/exp2']);
    expect(await s.om.models.list('experiments/exp[!0-9]')).toEqual(['experiments/expA']);
    expect(await s.om.models.list('experiments/exp[A1]')).toEqual(['experiments/exp1', 'experiments/expA']);
    expect(await s.om.models.list('?/model')).toEqual(['🚀/model']);
  });

  test('the whole name must match; matching is case-sensitive', async () => {
    expect(await s.om.models.list('*model')).toEqual(['Mymodel', 'mymodel', '🚀/model']);
    expect(await s.om.models.list('my*')).toEqual(['my*star', 'mymodel', 'mymodel2']);
    expect(await s.om.models.list('experiments/team/*/z')).toEqual(['experiments/team/y/z']);
    expect(await s.om.models.list('experiments/exp1?')).toEqual([]);
  });

  test('a plain name or prefix lists the names starting with it, as before', async () => {
    expect(await s.om.models.list('mymodel')).toEqual(['mymodel', 'mymodel2']);
    expect(await s.om.models.list('experiments/exp')).toEqual([
      'experiments/exp1',
      'experiments/exp2',
      'experiments/expA',
    ]);
    expect(await s.om.models.list('experiments/team/')).toEqual([
      'experiments/team/x',
      'experiments/team/y/z',
    ]);
    // an unclosed [ is a literal character, as in fnmatch
    expect(await s.om.models.list('a[b')).toEqual(['a[b']);
    expect(await s.om.models.list('🚀/')).toEqual(['🚀/model']);
  });

  test('[*] matches a literal star', async () => {
    expect(await s.om.models.list('my[*]*')).toEqual(['my*star']);
  });

  test('om.datasets.list takes the same patterns', async () => {
    expect(await s.om.datasets.list('*/2024')).toEqual(['costs/2024', 'sales/2024']);
    expect(await s.om.datasets.list('sales/202[45]')).toEqual(['sales/2024', 'sales/2025']);
    expect(await s.om.datasets.list('sales/')).toEqual(['sales/2024', 'sales/2025']);
  });

  test('pattern text never reaches the store as query text; a non-string pattern is refused', async () => {
    expect(await s.om.models.list("x' OR '1'='1*")).toEqual([]);
    expect(await s.om.models.list('%')).toEqual([]);
    expect(await s.om.models.list('_ymodel*')).toEqual([]);
    await expect(s.om.models.list(5 as never)).rejects.toThrow(TrackingInputError);
  });

  test('many stars on a long name match without backtracking blow-up', () => {
    const pattern = parseNamePattern(`${'*a'.repeat(30)}*b`);
    expect(pattern.matches('a'.repeat(250))).toBe(false);
    expect(pattern.matches(`${'a'.repeat(249)}b`)).toBe(true);
    expect(parseNamePattern('experiments/*').prefix).toBe('experiments/');
    expect(parseNamePattern('plain').wildcard).toBe(false);
  });
});
