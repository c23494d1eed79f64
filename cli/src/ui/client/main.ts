/**
 * The omega-track UI: a single page served by `omega-track ui`. Pages are picked by the hash
 * (router.ts), fetch from the read-only JSON API (api.ts) and refresh when the server pushes a
 * change of the experiment shown (live.ts).
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h, link, replace } from './dom';
import { LiveFeed } from './live';
import type { Route } from './router';
import { hrefs, routeOf } from './router';
import { artifactsPage } from './pages/artifacts';
import { compareAcrossPage, comparePage } from './pages/compare';
import { eventsPage } from './pages/events';
import { experimentsPage } from './pages/experiments';
import type { Crumb, Page, PageContext } from './pages/page';
import { profilePage } from './pages/profile';
import { runsPage } from './pages/runs';

const app = document.getElementById('app')!;
const crumbs = document.getElementById('crumbs')!;
const liveBadge = document.getElementById('live')!;

const LIVE_TEXT = { connecting: 'connecting…', live: '● live', offline: 'offline' } as const;
const live = new LiveFeed((state) => {
  liveBadge.textContent = LIVE_TEXT[state];
  liveBadge.className = `live ${state}`;
});

const ctx: PageContext = {
  live,
  setCrumbs(list: Crumb[]) {
    replace(
      crumbs,
      list.flatMap((c, i) => [
        i > 0 ? h('span', { className: 'sep' }, ' › ') : null,
        c.href ? link(c.href, c.label) : h('span', null, c.label),
      ]),
    );
    document.title = list.length > 0 ? `${list[list.length - 1].label} · omega-track` : 'omega-track';
  },
};

function pageFor(route: Route): Page {
  switch (route.page) {
    case 'experiments':
      return experimentsPage(ctx);
    case 'runs':
      return runsPage(ctx, route.experiment);
    case 'compare':
      return comparePage(ctx, route.experiment, route.runs);
    case 'compareAcross':
      return compareAcrossPage(ctx, route.runs);
    case 'profile':
      return profilePage(ctx, route.experiment, route.run);
    case 'artifacts':
      return artifactsPage(ctx, route.experiment, route.run);
    case 'events':
      return eventsPage(ctx, route.experiment, route.run);
    case 'notFound':
      ctx.setCrumbs([{ label: 'Experiments', href: hrefs.experiments() }, { label: 'Not found' }]);
      return {
        el: h(
          'div',
          { className: 'page' },
          h('p', { className: 'note error' }, 'No such page: '),
          link(hrefs.experiments(), 'back to the experiments'),
        ),
      };
  }
}

let current: Page | undefined;

function render(): void {
  current?.dispose?.();
  const page = pageFor(routeOf(location.hash));
  current = page;
  replace(app, page.el);
  window.scrollTo(0, 0);
  if (page.refresh && page.live !== undefined) {
    live.watch(page.live, () => (current === page ? page.refresh?.() : undefined));
  } else {
    live.close();
    liveBadge.textContent = '';
  }
}

window.addEventListener('hashchange', render);
render();
