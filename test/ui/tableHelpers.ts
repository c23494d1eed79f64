/**
 * For the runs-table browser suites (issue 24): a sweep of six runs whose values exercise the
 * table — a param and a metric both named `lr`, `grad` values that one number format must write
 * alike (5.3841e-5 and 0.000179469), learning rates that span three decades, an `acc` that rises
 * and falls (its max is not its last) — and the page helpers the suites share.
 */
import type { Page } from 'playwright-core';
import { omega } from 'omega-track';

export const SWEEP_LR = [0.1, 0.1, 0.01, 0.01, 0.001, 0.0001];
export const SWEEP_BASE = [0.9, 0.8, 0.95, 0.85, 0.7, 0.6];
export const GRAD: Record<number, number> = {
  1: 5.3841e-5,
  2: 0.000179469,
  3: 0.25,
  4: 1234.5678,
  5: 3,
  6: 0,
};

/** acc of run index `i` at `step` (0…9): rises to SWEEP_BASE[i] at step 5, then falls. */
export function accAt(i: number, step: number): number {
  return SWEEP_BASE[i] * (1 - Math.abs(step - 5) / 10);
}

/** The `sweep` experiment: runs 1…6, names sweep-seed-<n>, with the values above. */
export async function prepareSweep(storeUrl: string): Promise<void> {
  const om = omega({ store: storeUrl });
  const exp = om.runtime.experiment('sweep');
  for (const [i, lr] of SWEEP_LR.entries()) {
    await exp.run(
      (e) => {
        e.logParams({ lr, optimizer: i % 2 === 0 ? 'adam' : 'sgd', seed: i });
        for (let step = 0; step < 10; step++) {
          e.logMetric('acc', accAt(i, step), step);
          e.logMetric('loss', 1 / (step + 1 + i), step);
          // the schedule: a metric named like the param
          e.logMetric('lr', lr / (step + 1), step);
        }
        e.logMetric('grad', GRAD[i + 1], 9);
      },
      { name: `sweep-seed-${i + 1}` },
    );
  }
  await om.close();
}

/** The labels of the table's column headers (`params.lr`, `metrics.acc`). */
export async function columnLabels(page: Page): Promise<string[]> {
  return page.locator('table.grid thead th .col-label').allTextContents();
}

/** The text of a column's cell in the row of a run. */
export async function cellOf(page: Page, run: number, column: string): Promise<string> {
  const index = await page
    .locator('table.grid thead th')
    .evaluateAll((ths, col) => ths.findIndex((th) => th.getAttribute('data-col') === col), column);
  if (index < 0) throw new Error(`no column ${column}`);
  const row = page.locator('table.grid tbody tr', { has: page.locator(`input.pick[data-run="${run}"]`) });
  return ((await row.locator('td').nth(index).textContent()) ?? '').trim();
}

/** The run numbers of the rows shown. */
export async function shownRuns(page: Page): Promise<number[]> {
  const runs = await page
    .locator('table.grid tbody input.pick')
    .evaluateAll((boxes) => boxes.map((b) => Number(b.getAttribute('data-run'))));
  return runs.sort((a, b) => a - b);
}

/** Waits until the table shows exactly `runs` (in any order). */
export async function waitForRuns(page: Page, runs: number[]): Promise<void> {
  const want = [...runs].sort((a, b) => a - b).join(',');
  await page
    .waitForFunction(
      (w) =>
        [...(globalThis as any).document.querySelectorAll('table.grid tbody input.pick')]
          .map((b: any) => Number(b.getAttribute('data-run')))
          .sort((a: number, b: number) => a - b)
          .join(',') === w,
      want,
      { timeout: 10_000 },
    )
    .catch(() => undefined);
  expect(await shownRuns(page)).toEqual([...runs].sort((a, b) => a - b));
}
