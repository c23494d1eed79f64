/**
 * Issue 19, point 6: runs wider than the caps, already stored (imported, or logged before the
 * caps): a run with 100,000 tags and 5,000 params, written straight into the store. `runs()`
 * returns them; the UI's runs page shows a bounded number of tag and param columns and says how
 * many it hides, and the compare page a bounded side-by-side table: in Chromium, with no error
 * (the runs page died with "Maximum call stack size exceeded").
 */
import type { PendingEvent } from '@omega-track/core';
import { MAX_TAGS_PER_RUN, omega } from 'omega-track';
import { uiSuite } from './browserHelpers';
import { request } from './helpers';

const WIDE_TAGS = 100_000;
const WIDE_PARAMS = 5_000;
/** The most columns of each kind the runs page shows (the server's MAX_KEY_COLUMNS). */
const SHOWN = 100;

describe('runs wider than the caps, already in the store', () => {
  const ui = uiSuite(
    async (store) => {
      const om = omega({ store });
      const exp = om.runtime.experiment('wide');
      // run 1: an ordinary run, its keys shared with the wide one
      await exp.run(
        (e) => {
          e.setTags({ team: 'nlp', stage: 'baseline' });
          e.logParams({ lr: 0.1, batch: 32 });
          e.logMetric('loss', 0.5, 0);
        },
        { name: 'narrow' },
      );
      // run 2: past the caps, as an import or an older version would have written it
      const run = await exp.start({ name: 'wide', tags: { team: 'vision' } });
      exp.logParams({ lr: 0.01 });
      exp.logMetric('loss', 0.25, 0);
      await exp.stop();
      const base = { run, step: null, dt: Date.now(), node: 'n', userid: 'u', extra: undefined };
      const events: PendingEvent[] = [];
      for (let i = 0; i < WIDE_TAGS; i++)
        events.push({ ...base, event: 'tag', key: `t${i}`, value: `v${i}` });
      for (let i = 0; i < WIDE_PARAMS; i++) events.push({ ...base, event: 'param', key: `p${i}`, value: i });
      await om.store.appendEvents('wide', events);
      await om.close();
    },
    { timeout: 120_000 },
  );

  test('runs() returns the wide run with every tag and param', async () => {
    expect(WIDE_TAGS).toBeGreaterThan(MAX_TAGS_PER_RUN);
    const om = omega({ store: ui.store, create: false });
    try {
      const started = Date.now();
      const runs = await om.runtime.experiment('wide').runs();
      // a generous bound: what matters is that it returns
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(runs.map((r) => r.run)).toEqual([1, 2]);
      expect(Object.keys(runs[1].tags ?? {}).length).toBe(WIDE_TAGS + 1);
      expect(Object.keys(runs[1].params ?? {}).length).toBe(WIDE_PARAMS + 1);
      expect(runs[1].tags).toMatchObject({ team: 'vision', t0: 'v0', t99999: 'v99999' });
    } finally {
      await om.close();
    }
  });

  test('the API lists a bounded set of keys per kind, the shared ones first, and how many it hides', async () => {
    const keys = (await request(ui.server.port, '/api/experiments/wide/keys')).json as {
      metrics: string[];
      params: string[];
      tags: string[];
      hidden: { metrics: number; params: number; tags: number };
    };
    expect(keys.metrics).toEqual(['loss']);
    expect(keys.tags.length).toBe(SHOWN);
    expect(keys.params.length).toBe(SHOWN);
    // the keys both runs have are among those shown
    expect(keys.tags).toEqual(expect.arrayContaining(['team']));
    expect(keys.params).toEqual(expect.arrayContaining(['lr']));
    expect(keys.hidden).toEqual({
      metrics: 0,
      params: WIDE_PARAMS + 2 - SHOWN,
      tags: WIDE_TAGS + 2 - SHOWN,
    });
    // a page of the table carries only the keys it shows
    const shown = await request(ui.server.port, '/api/experiments/wide/runs?keys=shown&limit=100');
    expect(shown.status).toBe(200);
    const { runs } = shown.json as { runs: Array<{ run: number; tags: object; params: object }> };
    const wide = runs.find((r) => r.run === 2)!;
    expect(Object.keys(wide.tags).every((k) => keys.tags.includes(k))).toBe(true);
    expect(Object.keys(wide.params).every((k) => keys.params.includes(k))).toBe(true);
    expect(shown.body.length).toBeLessThan(100_000);
    // asked for without keys=shown, a run comes whole
    const whole = await request(ui.server.port, '/api/experiments/wide/runs?filter=attributes.run%20%3D%202');
    expect(Object.keys((whole.json as { runs: Array<{ tags: object }> }).runs[0].tags).length).toBe(
      WIDE_TAGS + 1,
    );
  });

  test('the runs page renders in Chromium: bounded tag and param columns, and how many are hidden', async () => {
    await ui.page.goto(`${ui.server.url}#/e/wide`);
    const picks = ui.page.locator('input.pick');
    // a page that died ("Maximum call stack size exceeded") never shows its rows: say why
    await picks
      .nth(1)
      .waitFor({ timeout: 15_000 })
      .catch(() => undefined);
    expect(ui.pageErrors).toEqual([]);
    expect(await picks.count()).toBe(2);
    // the columns fit the window; the chooser offers the bounded set of keys
    const header = await ui.page.locator('table.grid thead th .col-label').allTextContents();
    expect(header).toEqual(expect.arrayContaining(['params.lr', 'metrics.loss']));
    expect(header.length).toBeLessThan(2 * SHOWN + 20);
    await ui.page.locator('details.col-chooser > summary').click();
    expect(await ui.page.locator('input.col-pick[data-col^="tags."]').count()).toBe(SHOWN);
    expect(await ui.page.locator('input.col-pick[data-col^="params."]').count()).toBe(SHOWN);
    await ui.page.locator('input.col-pick[data-col="tags.team"]').check();
    expect(await ui.page.locator('table.grid thead th[data-col="tags.team"]').count()).toBe(1);
    const hidden = ui.page.locator('.hidden-columns');
    await hidden.waitFor();
    expect(await hidden.textContent()).toMatch(
      new RegExp(
        `${(WIDE_PARAMS + 2 - SHOWN).toLocaleString('en-US')} param.*${(WIDE_TAGS + 2 - SHOWN).toLocaleString('en-US')} tag`,
      ),
    );
    const wideRow = ui.page.locator('tr', { has: ui.page.locator('input.pick[data-run="2"]') });
    expect(await wideRow.textContent()).toContain('vision');
    expect(ui.pageErrors).toEqual([]);
  });

  test('the compare page shows a bounded side-by-side table of the wide run', async () => {
    await ui.page.goto(`${ui.server.url}#/e/wide/compare?runs=1,2`);
    const table = ui.page.locator('table.side-by-side').last();
    await table.waitFor({ timeout: 15_000 }).catch(() => undefined);
    expect(ui.pageErrors).toEqual([]);
    const rows = await table.locator('tbody tr').count();
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThanOrEqual(1000);
    expect(await ui.page.locator('.hidden-rows').last().textContent()).toMatch(/more tags/);
    expect(ui.pageErrors).toEqual([]);
  });
});
