import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PendingEvent } from '@omega-track/core';
import { openStore, setDiagWriter } from 'omega-track';
import { BIN, cliIn } from '../cli/cliRunner';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import type { PostgresServer } from '../helpers/postgresServer';
import { sleep, tempDir } from '../helpers/tmp';
import { logSample, snapshot, withOmega } from './sampleRuns';

// `omega-track copy`: store to store with run numbers, times, artifacts and models kept, and
// resumable; embedded → PostgreSQL → embedded against a real cluster.

setDiagWriter(() => undefined);

let tmp: ReturnType<typeof tempDir>;
let pg: PostgresServer;
beforeAll(async () => {
  tmp = tempDir();
  pg = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await removeAllPostgresServers();
  tmp.cleanup();
}, 30_000);

/** A metric event of a bulk run (its run number set by the caller). */
function event(i: number): PendingEvent {
  return {
    run: 0,
    event: 'metric',
    key: i % 2 ? 'a' : 'b',
    value: i / 7,
    step: i,
    dt: 1_600_000_000_000 + i,
    node: 'n',
    userid: 'u',
    extra: undefined,
  };
}

const sqlite = (name: string): string => `sqlite:${path.join(tmp.dir, name)}`;

test('embedded → PostgreSQL → embedded gives back every event, run and artifact exactly', async () => {
  const a = sqlite('a.db');
  await withOmega(a, (om) => logSample(om, 'vision', { bulk: 2, points: 20_000 }));
  await withOmega(a, (om) => logSample(om, 'nlp/ünï'));
  const before = await withOmega(a, async (om) => [
    await snapshot(om, 'vision'),
    await snapshot(om, 'nlp/ünï'),
  ]);
  expect(before[0].events).toBeGreaterThan(80_000);

  const pgUrl = await pg.createDatabase(freshDatabaseName());
  const there = await cliIn({}, ['copy', '--from', a, '--to', pgUrl]);
  expect(there.err).toBe('');
  expect(there.code).toBe(0);
  expect(there.out).toMatch(
    /^copied 10 runs \([\d,]+ events, 6 artifact files of [\d,]+ bytes\) of 2 experiments/,
  );

  const b = sqlite('b.db');
  const back = await cliIn({}, ['copy', '--from', pgUrl, '--to', b]);
  expect(back.err).toBe('');
  expect(back.code).toBe(0);
  const after = await withOmega(b, async (om) => [
    await snapshot(om, 'vision'),
    await snapshot(om, 'nlp/ünï'),
  ]);
  expect(after).toEqual(before);
  // in PostgreSQL too, read through the public API
  expect(await withOmega(pgUrl, (om) => snapshot(om, 'vision'))).toEqual(before[0]);
  // the experiments' settings came along
  expect(await withOmega(b, (om) => om.experiments.list())).toEqual(['nlp/ünï', 'vision']);
}, 120_000);

test('a copy run twice stores nothing twice; one experiment, some runs', async () => {
  const a = sqlite('twice-a.db');
  const b = sqlite('twice-b.db');
  await withOmega(a, (om) => logSample(om, 'e1'));
  await withOmega(a, (om) => logSample(om, 'e2'));
  const first = await cliIn({}, ['copy', '--from', a, '--to', b, 'e1', '--run', '1..3']);
  expect(first.err).toBe('');
  expect(first.code).toBe(0);
  expect(first.out).toMatch(/^copied 3 runs .* of 1 experiment/);
  const again = await cliIn({}, ['copy', '--from', a, '--to', b, 'e1', '--run', '1..3']);
  expect(again.code).toBe(0);
  expect(again.out).toMatch(/copied 0 runs .*; 3 already there \(nothing stored twice\)/);
  await withOmega(b, async (om) => {
    expect(await om.experiments.list()).toEqual(['e1']);
    // run by run (see snapshot): ties across runs may come in another order
    const byRun = (rows: Array<{ run: number }>) => rows.sort((x, y) => x.run - y.run);
    const source = await withOmega(a, (src) => src.runtime.experiment('e1').data({ run: [1, 2, 3] }));
    expect(byRun(await om.runtime.experiment('e1').data({ run: 'all' }))).toEqual(byRun(source));
  });
});

test('a copy killed midway and run again ends with every event once', async () => {
  const a = sqlite('kill-a.db');
  const b = sqlite('kill-b.db');
  await withOmega(a, (om) => logSample(om, 'big'));
  // many long runs, written straight into the store (logging them call by call takes long)
  const source = openStore(a);
  try {
    for (let r = 0; r < 20; r++) {
      const run = await source.startRun('big', { ...event(0), event: 'start', key: 'start', value: null });
      for (let at = 0; at < 20_000; at += 10_000)
        await source.appendEvents(
          'big',
          Array.from({ length: 10_000 }, (_, i) => ({ ...event(at + i), run })),
        );
    }
  } finally {
    await source.close();
  }
  const expected = await withOmega(a, (om) => snapshot(om, 'big'));
  const child = spawn(process.execPath, [BIN, 'copy', '--from', a, '--to', b], { stdio: 'ignore' });
  // killed once some of the runs are in the target, well before all are
  const target = openStore(b);
  try {
    for (let i = 0; i < 600; i++) {
      await sleep(50);
      const latest = await target.latestRun('big').catch(() => undefined);
      if (latest !== undefined && latest >= 5) break;
    }
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const partial = (await target.latestRun('big')) ?? 0;
  await target.close();
  expect(partial).toBeGreaterThanOrEqual(5);
  expect(partial).toBeLessThan(expected.runs.length);
  const resumed = await cliIn({}, ['copy', '--from', a, '--to', b]);
  expect(resumed.code).toBe(0);
  expect(resumed.out).toMatch(/already there/);
  expect(await withOmega(b, (om) => snapshot(om, 'big'))).toEqual(expected);
}, 120_000);

test('a run whose number the target holds for another run is left out, said, exit 1', async () => {
  const a = sqlite('clash-a.db');
  const b = sqlite('clash-b.db');
  await withOmega(a, (om) => logSample(om, 'x'));
  await withOmega(b, async (om) => {
    const exp = om.runtime.experiment('x');
    await exp.start({ name: 'mine' });
    await exp.stop();
  });
  const r = await cliIn({}, ['copy', '--from', a, '--to', b, 'x']);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/run 1 of 'x': the target holds another run 1: not copied/);
  expect(r.err).toMatch(
    /run 2 of 'x': its parent run 1 was not copied, and the target's run 1 is another run/,
  );
  await withOmega(b, async (om) => {
    const runs = await om.runtime.experiment('x').runs({ run: 'all' });
    expect(runs[0].name).toBe('mine');
    // run 2, a child of the source's run 1, is not copied under the target's run 1
    expect(runs.map((x) => x.run)).toEqual([1, 3, 4]);
  });
});

test('bad input: a store that does not exist, the same store twice, an experiment that matches nothing', async () => {
  const missing = await cliIn({}, ['copy', '--from', sqlite('nope.db'), '--to', sqlite('n2.db')]);
  expect(missing.code).toBe(1);
  expect(missing.err).toMatch(/nope\.db/);
  const same = await cliIn({}, ['copy', '--from', sqlite('s.db'), '--to', `sqlite:${tmp.dir}/./x/../s.db`]);
  expect(same.err).toMatch(/the same store/);
  const memory = await cliIn({}, ['copy', '--from', sqlite('s.db'), '--to', 'memory:']);
  expect(memory.err).toMatch(/--to memory: is a store in this process's memory: it ends with the command/);
  const a = sqlite('match-a.db');
  await withOmega(a, (om) => logSample(om, 'only'));
  const none = await cliIn({}, ['copy', '--from', a, '--to', sqlite('match-b.db'), 'oth*']);
  expect(none.code).toBe(1);
  expect(none.err).toMatch(/no experiment of the store matches 'oth\*'/);
  expect(fs.existsSync(path.join(tmp.dir, 'match-b.db'))).toBe(false);
});

test('on a terminal a progress line counts runs and events; elsewhere nothing is drawn', async () => {
  const a = sqlite('progress-a.db');
  await withOmega(a, (om) => logSample(om, 'p'));
  const onTerminal = await cliIn({}, ['copy', '--from', a, '--to', sqlite('progress-b.db')], {
    stderrIsTTY: true,
  });
  expect(onTerminal.code).toBe(0);
  // drawn in place, last with every run counted, then ended by a newline before the summary
  const ERASE = '\r\u001b[2K';
  expect(onTerminal.err.startsWith(ERASE)).toBe(true);
  expect(onTerminal.err.split(ERASE).pop()).toMatch(
    /^copying: runs 4 · events [\d,]+ · [\d,]+ events\/s · 0:\d\d\n$/,
  );
  const piped = await cliIn({}, ['copy', '--from', a, '--to', sqlite('progress-c.db')]);
  expect(piped.err).toBe('');
});

test('copying back into the store the runs came from stores nothing twice', async () => {
  const a = sqlite('back-a.db');
  const b = sqlite('back-b.db');
  await withOmega(a, (om) => logSample(om, 'round'));
  const before = await withOmega(a, (om) => snapshot(om, 'round'));
  expect((await cliIn({}, ['copy', '--from', a, '--to', b])).code).toBe(0);
  const back = await cliIn({}, ['copy', '--from', b, '--to', a]);
  expect(back.err).toBe('');
  expect(back.out).toMatch(/^copied 0 runs \(0 events\) of 1 experiment; 4 already there/);
  expect(await withOmega(a, (om) => snapshot(om, 'round'))).toEqual(before);
});

test('a run that grew in the source gets the rest; runs left out by --run come later under their numbers', async () => {
  const a = sqlite('grow-a.db');
  const b = sqlite('grow-b.db');
  await withOmega(a, (om) => logSample(om, 'grow'));
  expect((await cliIn({}, ['copy', '--from', a, '--to', b, '--run', '3'])).code).toBe(0);
  expect((await cliIn({}, ['copy', '--from', a, '--to', b])).out).toMatch(
    /^copied 3 runs .*; 1 already there/,
  );
  // a tag set on run 1 after the copy: the next copy brings it, and only it
  expect((await cliIn({}, ['tag', 'grow', '1', 'stage=candidate', '--store', a])).code).toBe(0);
  const again = await cliIn({}, ['copy', '--from', a, '--to', b]);
  expect(again.err).toBe('');
  expect(again.out).toMatch(/^copied 1 run \(1 events\) of 1 experiment; 3 already there/);
  expect(await withOmega(b, (om) => snapshot(om, 'grow'))).toEqual(
    await withOmega(a, (om) => snapshot(om, 'grow')),
  );
});

test("a whole-store copy leaves the target's own models and datasets of the same name as they are, and says so", async () => {
  const a = sqlite('objects-a.db');
  const b = sqlite('objects-b.db');
  await withOmega(a, async (om) => {
    await logSample(om, 'objects');
    await om.datasets.put({ from: 'source' }, 'shared/name');
  });
  await withOmega(b, (om) => om.datasets.put({ precious: true }, 'shared/name'));
  const r = await cliIn({}, ['copy', '--from', a, '--to', b]);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(
    /datasets entry 'shared\/name': the target has another entry of that name: left as it is/,
  );
  expect(await withOmega(b, (om) => om.datasets.get('shared/name'))).toEqual({ precious: true });
});
