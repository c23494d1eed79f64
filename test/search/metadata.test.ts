import path from 'node:path';
import type { TrackingEvent } from '@omega-track/core';
import { NoActiveRunError, TrackingInputError, omega } from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';
import type { Exp } from './helpers';
import { runNumbers } from './helpers';

/** The name, tag and note events of every run, as [run, event, key, value]. */
async function metadataEvents(exp: Exp): Promise<Array<[number, string, string, unknown]>> {
  const events: TrackingEvent[] = await exp.data({ run: 'all', event: ['name', 'tag', 'note'] });
  return events.map((e) => [e.run, e.event, e.key, e.value]);
}

describe('run names, tags and notes', () => {
  const { om, dir } = omegaPerTest();

  test('setName, setTag, setTags, setNote: in runs() and as events in data(); the latest value wins', async () => {
    const exp = om().runtime.experiment('meta');
    await exp.start();
    exp.setName('a');
    exp.setName('b');
    exp.setTag('k', 1);
    exp.setTag('k', 'two');
    exp.setTags({ x: true, y: { nested: [1, 2] }, 'with space.and-dash': 'ok' });
    exp.setNote('first');
    exp.setNote('second, with\nlines');
    await exp.stop();
    const [run] = await exp.runs();
    expect(run).toMatchObject({
      run: 1,
      name: 'b',
      note: 'second, with\nlines',
      tags: { k: 'two', x: true, y: { nested: [1, 2] }, 'with space.and-dash': 'ok' },
    });
    // metadata are not params
    expect(run.params).toEqual({});
    expect(await metadataEvents(exp)).toEqual([
      [1, 'name', 'name', 'a'],
      [1, 'name', 'name', 'b'],
      [1, 'tag', 'k', 1],
      [1, 'tag', 'k', 'two'],
      [1, 'tag', 'x', true],
      [1, 'tag', 'y', { nested: [1, 2] }],
      [1, 'tag', 'with space.and-dash', 'ok'],
      [1, 'note', 'note', 'first'],
      [1, 'note', 'note', 'second, with\nlines'],
    ]);
    // the filter language finds them
    expect(runNumbers(await exp.runs({ filter: "tags.k = 'two' AND attributes.run_name = 'b'" }))).toEqual([
      1,
    ]);
    expect(runNumbers(await exp.runs({ filter: "tags.`with space.and-dash` = 'ok'" }))).toEqual([1]);
    expect(runNumbers(await exp.runs({ filter: "tags.k = '1'" }))).toEqual([]);
  });

  test('start({ name, tags, note }) and run(fn, { name, tags, note }); set* later in the run wins', async () => {
    const exp = om().runtime.experiment('meta');
    await exp.start({ name: 'started', tags: { a: 1, b: 'x' }, note: 'from start' });
    exp.setTag('b', 'y');
    await exp.stop();
    const inside = await exp.run(
      async (e) => {
        e.setName('renamed');
        e.setNote('from inside');
        return e.currentRun;
      },
      { name: 'scoped', tags: { c: [1, 2] }, note: 'from run' },
    );
    expect(inside).toBe(2);
    await exp.run(async () => undefined, { tags: { only: 'tags' } });
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.name, r.tags, r.note])).toEqual([
      [1, 'started', { a: 1, b: 'y' }, 'from start'],
      [2, 'renamed', { c: [1, 2] }, 'from inside'],
      [3, undefined, { only: 'tags' }, undefined],
    ]);
    expect(await metadataEvents(exp)).toEqual([
      [1, 'name', 'name', 'started'],
      [1, 'tag', 'a', 1],
      [1, 'tag', 'b', 'x'],
      [1, 'note', 'note', 'from start'],
      [1, 'tag', 'b', 'y'],
      [2, 'name', 'name', 'scoped'],
      [2, 'tag', 'c', [1, 2]],
      [2, 'note', 'note', 'from run'],
      [2, 'name', 'name', 'renamed'],
      [2, 'note', 'note', 'from inside'],
      [3, 'tag', 'only', 'tags'],
    ]);
  });

  test('metadata of an earlier run joined with use(run); a store reopened reads them back', async () => {
    const exp = om().runtime.experiment('meta');
    await exp.run(async () => undefined, { name: 'one' });
    await exp.run(async () => undefined, { name: 'two' });
    await exp.use(1);
    exp.setTag('revisited', true);
    await exp.flush();
    const before = await exp.runs();
    expect(before.map((r) => [r.run, r.name, r.tags])).toEqual([
      [1, 'one', { revisited: true }],
      [2, 'two', undefined],
    ]);
    await om().close();
    const again = omega({ store: `sqlite:${path.join(dir(), 'omega.db')}` });
    try {
      const reopened = again.runtime.experiment('meta');
      expect((await reopened.runs()).map((r) => [r.run, r.name, r.tags])).toEqual(
        before.map((r) => [r.run, r.name, r.tags]),
      );
      expect(await metadataEvents(reopened)).toEqual([
        [1, 'name', 'name', 'one'],
        [2, 'name', 'name', 'two'],
        [1, 'tag', 'revisited', true],
      ]);
    } finally {
      await again.close();
    }
  });

  test('set* without a run is a NoActiveRunError', () => {
    const exp = om().runtime.experiment('no-run');
    expect(() => exp.setName('x')).toThrow(NoActiveRunError);
    expect(() => exp.setTag('k', 1)).toThrow(NoActiveRunError);
    expect(() => exp.setTags({ k: 1 })).toThrow(NoActiveRunError);
    expect(() => exp.setNote('x')).toThrow(NoActiveRunError);
  });

  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const as = <T>(value: unknown) => value as T;
  // each: what it is, and a call that must be refused
  const bad: Array<[string, (exp: Exp) => void]> = [
    ['an empty name', (e) => e.setName('')],
    ['a name that is a number', (e) => e.setName(as<string>(42))],
    ['no name', (e) => e.setName(as<string>(undefined))],
    ['a null name', (e) => e.setName(as<string>(null))],
    ['a name of 251 characters', (e) => e.setName('x'.repeat(251))],
    ['a name with NUL', (e) => e.setName('a\0b')],
    ['an empty tag key', (e) => e.setTag('', 1)],
    ['a tag key with NUL', (e) => e.setTag('a\0b', 1)],
    ['a tag key of 251 characters', (e) => e.setTag('k'.repeat(251), 1)],
    ['a tag key that is an object', (e) => e.setTag(as<string>({}), 1)],
    ['a function tag value', (e) => e.setTag('k', () => 1)],
    ['a symbol tag value', (e) => e.setTag('k', Symbol('s'))],
    ['a bigint tag value', (e) => e.setTag('k', 10n)],
    ['a Map tag value', (e) => e.setTag('k', new Map([[1, 2]]))],
    ['a circular tag value', (e) => e.setTag('k', circular)],
    ['setTags with one empty key', (e) => e.setTags({ ok: 1, '': 2 })],
    ['setTags with one bad value', (e) => e.setTags({ ok: 1, bad: () => 0 })],
    ['setTags(null)', (e) => e.setTags(as<Record<string, unknown>>(null))],
    ['setTags of an array', (e) => e.setTags(as<Record<string, unknown>>([1]))],
    ['setTags of a text', (e) => e.setTags(as<Record<string, unknown>>('a=b'))],
    ['a note that is a number', (e) => e.setNote(as<string>(42))],
    ['a note that is an object', (e) => e.setNote(as<string>({ text: 'x' }))],
    ['no note', (e) => e.setNote(as<string>(undefined))],
    ['a null note', (e) => e.setNote(as<string>(null))],
    ['a note over 64 KiB', (e) => e.setNote('x'.repeat(65_537))],
  ];

  test.each(bad)('%s is a TrackingInputError and records nothing', async (_what, call) => {
    const exp = om().runtime.experiment('bad');
    await exp.start({ name: 'kept', tags: { ok: 0 }, note: 'kept note' });
    const before = await metadataEvents(exp);
    expect(() => call(exp)).toThrow(TrackingInputError);
    await exp.stop();
    // all or none: not even the good half of a setTags
    expect(await metadataEvents(exp)).toEqual(before);
    const [run] = await exp.runs();
    expect(run).toMatchObject({ name: 'kept', tags: { ok: 0 }, note: 'kept note' });
  });

  const badStarts: Array<[string, Record<string, unknown>]> = [
    ['an empty name', { name: '' }],
    ['a name that is a number', { name: 5 }],
    ['an empty tag key', { tags: { ok: 1, '': 1 } }],
    ['a function tag value', { tags: { ok: 1, k: () => 1 } }],
    ['tags that are text', { tags: 'team=a' }],
    ['tags that are an array', { tags: [['team', 'a']] }],
    ['a note that is a number', { note: 5 }],
    ['a note over 64 KiB', { note: 'x'.repeat(65_537) }],
  ];

  test.each(badStarts)(
    'start() and run(fn) with %s: a TrackingInputError, no run started',
    async (_what, opts) => {
      const exp = om().runtime.experiment('bad-start');
      await exp.run(async () => undefined, { name: 'first' });
      await expect(exp.start(opts)).rejects.toThrow(TrackingInputError);
      let called = false;
      await expect(
        exp.run(async () => {
          called = true;
        }, opts),
      ).rejects.toThrow(TrackingInputError);
      expect(called).toBe(false);
      expect(runNumbers(await exp.runs())).toEqual([1]);
      expect(await metadataEvents(exp)).toEqual([[1, 'name', 'name', 'first']]);
      // the next run is the next number: none was taken by the refused ones
      expect(await exp.start({ name: 'second' })).toBe(2);
      await exp.stop();
    },
  );

  test("a child run's metadata lands in the child, not in its parent", async () => {
    const exp = om().runtime.experiment('family');
    await exp.run(
      async () => {
        exp.setTag('where', 'parent');
        await exp.run(
          async () => {
            exp.setName('kid');
            exp.setTag('where', 'child');
            exp.setTags({ depth: 1 });
            exp.setNote('child note');
          },
          { tags: { born: 'child' }, note: 'given to the child' },
        );
        // back in the parent
        exp.setNote('parent note');
      },
      { name: 'mom', tags: { born: 'parent' } },
    );
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.parent, r.name, r.tags, r.note])).toEqual([
      [1, undefined, 'mom', { born: 'parent', where: 'parent' }, 'parent note'],
      [2, 1, 'kid', { born: 'child', where: 'child', depth: 1 }, 'child note'],
    ]);
    const events = await metadataEvents(exp);
    expect(events.filter(([run]) => run === 1).map(([, event, key, value]) => [event, key, value])).toEqual([
      ['name', 'name', 'mom'],
      ['tag', 'born', 'parent'],
      ['tag', 'where', 'parent'],
      ['note', 'note', 'parent note'],
    ]);
    expect(events.filter(([run]) => run === 2).map(([, event, key, value]) => [event, key, value])).toEqual([
      ['tag', 'born', 'child'],
      ['note', 'note', 'given to the child'],
      ['name', 'name', 'kid'],
      ['tag', 'where', 'child'],
      ['tag', 'depth', 1],
      ['note', 'note', 'child note'],
    ]);
  });

  test('concurrent child runs each keep their own metadata', async () => {
    const exp = om().runtime.experiment('siblings');
    await exp.run(async () => {
      await Promise.all(
        ['a', 'b', 'c'].map((who) =>
          exp.run(
            async () => {
              await new Promise((resolve) => setImmediate(resolve));
              exp.setTag('who', who);
              exp.setNote(`note of ${who}`);
            },
            { name: who },
          ),
        ),
      );
    });
    const children = (await exp.runs()).filter((r) => r.parent === 1);
    expect(children.length).toBe(3);
    for (const child of children) {
      expect(child.tags).toEqual({ who: child.name });
      expect(child.note).toBe(`note of ${child.name}`);
    }
    expect((await exp.runs({ run: 1 }))[0].tags).toBeUndefined();
  });

  test('notrack accepts them all and records nothing', async () => {
    const quiet = om().runtime.experiment('quiet', { provider: 'notrack' });
    await quiet.start({ name: 'x', tags: { a: 1 }, note: 'n' });
    quiet.setName('y');
    quiet.setTag('k', 1);
    quiet.setTags({ a: 2 });
    quiet.setNote('m');
    await quiet.run(
      async () => {
        quiet.setName('z');
        quiet.setTags({ b: 1 });
      },
      { name: 'r', tags: { c: 1 }, note: 'q' },
    );
    await quiet.stop();
    expect(await quiet.runs()).toEqual([]);
    expect(await quiet.data({ run: 'all' })).toEqual([]);
  });
});
