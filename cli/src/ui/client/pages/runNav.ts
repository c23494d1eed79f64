/** Links between the pages of one run. */
import { h, link } from '../dom';
import { hrefs } from '../router';

export function runNav(
  experiment: string,
  run: number,
  current: 'profile' | 'artifacts' | 'events',
): HTMLElement {
  const pages = ['profile', 'artifacts', 'events'] as const;
  return h(
    'nav',
    { className: 'run-nav' },
    link(hrefs.compare(experiment, [run]), 'charts'),
    pages.map((p) => (p === current ? h('strong', null, p) : link(hrefs.run(experiment, run, p), p))),
  );
}
