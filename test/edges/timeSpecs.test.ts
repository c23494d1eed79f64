/**
 * `since` and `end` take a Date, an ISO date or date-time with its zone, or a span before now —
 * nothing else Date.parse would read as some time or other (the same forms filters take).
 */
import { TrackingInputError, omega } from 'omega-track';

describe('since / end', () => {
  const om = omega({ store: 'memory:' });
  afterAll(() => om.close());

  beforeAll(async () => {
    await om.runtime.experiment('times').run(async (e) => {
      e.logMetric('m', 1, { dt: Date.parse('2026-12-07T10:00:00Z') });
      e.logMetric('m', 2, { dt: Date.parse('2026-12-08T10:00:00Z') });
    });
  });

  test.each(['March 7', '12', 'Tue Dec 08 2026', '2026-02-30', '2026-12-07T10:00', 'yesterday-ish', '2026'])(
    "'%s' is refused",
    async (spec) => {
      const exp = om.runtime.experiment('times');
      await expect(exp.data({ run: 'all', since: spec })).rejects.toThrow(TrackingInputError);
      await expect(exp.data({ run: 'all', end: spec })).rejects.toThrow(/neither an ISO date nor a span/);
    },
  );

  test('ISO dates (midnight UTC), date-times with their zone, Dates and spans are read', async () => {
    const exp = om.runtime.experiment('times');
    const values = async (q: Record<string, unknown>): Promise<unknown[]> =>
      (await exp.data({ run: 'all', event: 'metric', ...q })).map((r) => r.value);
    expect(await values({ since: '2026-12-08' })).toEqual([2]);
    expect(await values({ end: '2026-12-08' })).toEqual([1]);
    expect(await values({ since: '2026-12-08T11:00:00+01:00' })).toEqual([2]);
    expect(await values({ since: '2026-12-08T11:00:00.001+01:00' })).toEqual([]);
    expect(await values({ end: new Date('2026-12-07T10:00:00Z') })).toEqual([1]);
    expect(await values({ since: '100000w' })).toEqual([1, 2]);
  });
});
