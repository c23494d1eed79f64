/** Links between the pages of one run (and, for a sweep's run, to its trials). */
import type { RunJson } from '../api';
import { experimentPath, getJson } from '../api';
import { h, link } from '../dom';
import { hrefs } from '../router';

export function runNav(
  experiment: string,
  run: number,
  current: 'profile' | 'artifacts' | 'events',
): HTMLElement {
  const pages = ['profile', 'artifacts', 'events'] as const;
  const nav = h(
    'nav',
    { className: 'run-nav' },
    link(hrefs.compare(experiment, [run]), 'charts'),
    pages.map((p) => (p === current ? h('strong', null, p) : link(hrefs.run(experiment, run, p), p))),
  );
  void addSweepLink(nav, experiment, run);
  return nav;
}

/**
 * A sweep's run (tag `sweep: true`) links to its trials: the runs table filtered to its child
 * runs, with the parallel coordinates open. Asked of the server after the page is drawn: a run
 * that is no sweep (or a failed request) just has no such link.
 */
async function addSweepLink(nav: HTMLElement, experiment: string, run: number): Promise<void> {
  try {
    const { runs } = await getJson<{ runs: RunJson[] }>(`${experimentPath(experiment)}/runs`, {
      filter: `attributes.run = ${run}`,
      limit: 1,
    });
    if (runs[0]?.tags?.sweep !== true) return;
    const trials = link(hrefs.sweepTrials(experiment, run), 'trials');
    trials.classList.add('sweep-trials');
    trials.title = "this sweep's trials in the runs table, with parallel coordinates";
    nav.append(trials);
  } catch {
    // the link is a convenience: without the server's answer the page stands as it is
  }
}
