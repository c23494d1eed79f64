/**
 * The chunk payload's compact layout (issue 12: a million-point series is read for a chart in a
 * quarter of the bytes): every form a column can take reads back exactly as it was logged, and
 * payloads of the first layout (v8-serialized columns, in stores written before) still read.
 */
import v8 from 'node:v8';
import type { PendingEvent, TrackingEvent } from '@omega-track/core';
import { decodeChunk, decodeChunkColumns, encodeChunk } from '@omega-track/core/internal';

const T0 = Date.UTC(2026, 11, 1);

function metric(i: number, over: Partial<PendingEvent> = {}): PendingEvent {
  return {
    run: 3,
    event: 'metric',
    key: 'loss',
    value: 1 / (i + 1),
    step: i,
    dt: T0 + i,
    node: 'host-a',
    userid: 'ana',
    extra: undefined,
    ...over,
  };
}

/** What decodeChunk should give back for `events`. */
function expected(events: readonly PendingEvent[]): TrackingEvent[] {
  return events.map((e) => {
    const { extra, ...rest } = e;
    return {
      experiment: 'x',
      ...rest,
      value: e.value ?? null,
      dt: new Date(e.dt),
      ...(extra ?? {}),
    };
  });
}

function roundTrip(events: PendingEvent[]): TrackingEvent[] {
  return decodeChunk('x', 3, encodeChunk(events).payload, undefined);
}

describe('chunk payload layout', () => {
  const cases: Array<[string, PendingEvent[]]> = [
    ['metrics of one key, steps counting up', Array.from({ length: 4096 }, (_, i) => metric(i))],
    ['one event', [metric(0)]],
    [
      'steps that skip, start negative, or are missing',
      [
        metric(0, { step: -5 }),
        metric(1, { step: 10 }),
        metric(2, { step: null }),
        metric(3, { step: 2 ** 52 }),
      ],
    ],
    [
      'the same step and time for all, no steps at all',
      Array.from({ length: 50 }, (_, i) => metric(i, { step: null, dt: T0 })),
    ],
    [
      'times with fractions and far apart',
      [metric(0, { dt: T0 + 0.25 }), metric(1, { dt: -8.64e15 }), metric(2, { dt: 8.64e15 })],
    ],
    [
      'times that grow by more than 255 ms, and times that go back',
      [
        metric(0, { dt: T0 }),
        metric(1, { dt: T0 + 300 }),
        metric(2, { dt: T0 + 70_300 }),
        metric(3, { dt: T0 + 70_301 }),
        metric(4, { dt: T0 + 5 }),
      ],
    ],
    [
      'times that grow by up to a minute',
      [0, 255, 256, 65_791, 65_791].map((d, i) => metric(i, { dt: T0 + d })),
    ],
    ['times more than 49 days apart', [metric(0, { dt: T0 }), metric(1, { dt: T0 + 2 ** 33 })]],
    [
      'values exact in 32 bits, with NaN, ±Infinity and -0',
      [0.5, NaN, Infinity, -Infinity, -0, 0, 3].map((value, i) => metric(i, { value })),
    ],
    ['values that need 64 bits', [0.1, 1e300, -1e-300, 2 ** 53].map((value, i) => metric(i, { value }))],
    [
      'one value for all, and 0 beside -0',
      [
        ...Array.from({ length: 10 }, (_, i) => metric(i, { value: 7 })),
        metric(10, { value: 0 }),
        metric(11, { value: -0 }),
      ],
    ],
    [
      'values that are not all numbers, extras',
      [
        metric(0, { value: 'text' }),
        metric(1, { event: 'param', key: 'cfg', value: { lr: 0.1, layers: [1, 2] } }),
        metric(2, { value: null }),
        metric(3, { value: true, extra: { epoch: 2, phase: 'train' } }),
        metric(4, { value: 2.5 }),
      ],
    ],
    [
      'one extra shared by every event (a stamp such as the team server writer)',
      Array.from({ length: 300 }, (_, i) => metric(i, { extra: { writer: 'alice' } })),
    ],
    [
      'extras that vary, some events without',
      Array.from({ length: 700 }, (_, i) => metric(i, i % 3 ? { extra: { fold: i % 300 } } : {})),
    ],
    [
      'many names, nodes and users',
      Array.from({ length: 600 }, (_, i) =>
        metric(i, { key: `k${i % 300}`, node: `n${i % 7}`, userid: `u${i}` }),
      ),
    ],
    [
      'more than 256 names (indexes of 2 bytes)',
      Array.from({ length: 4096 }, (_, i) =>
        metric(i, { key: `k${i}`, node: `n${i}`, userid: `u${i}`, event: `e${i}` }),
      ),
    ],
  ];

  test.each(cases)('%s reads back as logged', (_, events) => {
    const rows = roundTrip(events);
    expect(rows).toEqual(expected(events));
    // -0 stays -0, NaN stays NaN, in values and steps
    rows.forEach((r, i) => {
      if (typeof r.value === 'number') expect(Object.is(r.value, events[i].value)).toBe(true);
      expect(Object.is(r.step, events[i].step)).toBe(true);
    });
  });

  test('a chunk of metrics of one key takes under a quarter of the first layout', () => {
    const events = Array.from({ length: 4096 }, (_, i) => metric(i));
    const compact = encodeChunk(events).payload.length;
    // 4,096 numbers of 8 bytes and times 1 ms apart in 1: the names, the node, the user and the
    // steps are one value each
    expect(compact).toBeLessThan(4096 * 9 + 512);
    const legacy = v8.serialize(legacyPacked(events)).length;
    expect(compact * 4).toBeLessThan(legacy);
  });

  test('columns tell when their steps count up by one, also of the metrics picked from a mixed chunk', () => {
    const metrics = Array.from({ length: 100 }, (_, i) => metric(i, { step: 10 + i }));
    const whole = encodeChunk(metrics).payload;
    expect(decodeChunkColumns(3, whole, {}).stepStart).toBe(10);
    const mixed = encodeChunk([metric(0, { event: 'param', key: 'lr', step: null }), ...metrics]).payload;
    const picked = decodeChunkColumns(3, mixed, { events: ['metric'] });
    expect(picked.length).toBe(100);
    expect(picked.stepStart).toBe(10);
    expect(decodeChunkColumns(3, mixed, {}).stepStart).toBeUndefined();
    // the metrics picked beside a value that is no number (the run's stop): all numbers, said so
    const withStop = encodeChunk([
      ...metrics,
      metric(100, { event: 'stop', key: 'stop', value: null, step: null }),
    ]).payload;
    const only = decodeChunkColumns(3, withStop, { events: ['metric'] });
    expect([only.length, only.numeric, only.stepStart]).toEqual([100, undefined, 10]);
    expect(decodeChunkColumns(3, withStop, {}).numeric?.[100]).toBe(0);
    const gap = encodeChunk([...metrics, metric(200, { step: 500 })]).payload;
    expect(decodeChunkColumns(3, gap, {}).stepStart).toBeUndefined();
    expect(decodeChunkColumns(3, gap, { steps: [10, 11, 12] }).stepStart).toBe(10);
  });

  test('an extra shared by the events of a chunk costs next to nothing, not its text per event', () => {
    const plain = Array.from({ length: 4096 }, (_, i) => metric(i));
    const stamped = plain.map((e) => ({ ...e, extra: { writer: 'ci-machine-17' } }));
    const extraBytes = encodeChunk(stamped).payload.length - encodeChunk(plain).payload.length;
    // per event the text would be 26 bytes (~106 KB); shared, it is written once
    expect(extraBytes).toBeLessThan(200);
    const varying = plain.map((e, i) => ({ ...e, extra: { writer: i % 2 ? 'a' : 'b' } }));
    // two texts: a byte per event picks one
    expect(encodeChunk(varying).payload.length - encodeChunk(plain).payload.length).toBeLessThan(4096 + 200);
  });

  test('compact payloads written before extras were a dictionary (a text per event) still read', () => {
    const events = Array.from({ length: 50 }, (_, i) => metric(i, i % 2 ? { extra: { fold: i } } : {}));
    const payload = encodeChunk(events).payload;
    // rewrite the header as the earlier layout had it: extras as one JSON text per event
    const headLength = payload.readUInt32LE(4);
    const header = v8.deserialize(payload.subarray(8, 8 + headLength)) as Record<string, unknown>;
    const align = (n: number): number => Math.ceil(n / 8) * 8;
    const data = payload.subarray(align(8 + headLength));
    header.extras = decodeChunk('x', 3, payload, undefined).map((r, i) =>
      events[i].extra ? JSON.stringify(events[i].extra) : r.fold === undefined ? '' : 'unexpected',
    );
    delete header.extraNames;
    delete header.extra;
    const head = v8.serialize(header);
    const earlier = Buffer.alloc(align(8 + head.length) + data.length);
    earlier.writeUInt32LE(payload.readUInt32LE(0), 0);
    earlier.writeUInt32LE(head.length, 4);
    head.copy(earlier, 8);
    data.copy(earlier, align(8 + head.length));
    expect(decodeChunk('x', 3, earlier, undefined)).toEqual(expected(events));
  });

  test('payloads of the first layout still read, by rows and by columns', () => {
    const events = [metric(0), metric(1, { step: null }), metric(2, { value: 'x' })];
    const payload = v8.serialize(legacyPacked(events));
    expect(decodeChunk('x', 3, payload, undefined)).toEqual(expected(events));
    const columns = decodeChunkColumns(3, payload, {});
    expect([...columns.values]).toEqual([1, 0.5, NaN]);
    expect([...columns.numeric!]).toEqual([1, 1, 0]);
    expect([...columns.step]).toEqual([0, NaN, 2]);
  });

  test('columns of a payload read at any byte offset give the same numbers', () => {
    const events = Array.from({ length: 100 }, (_, i) => metric(i, { value: i * 0.1, step: i * 3 }));
    const payload = encodeChunk(events).payload;
    const shifted = Buffer.alloc(payload.length + 3);
    payload.copy(shifted, 3);
    const a = decodeChunkColumns(3, payload, {});
    const b = decodeChunkColumns(3, shifted.subarray(3), {});
    expect([...b.values]).toEqual([...a.values]);
    expect([...b.step]).toEqual(events.map((e) => e.step));
    expect([...b.dt]).toEqual(events.map((e) => e.dt));
  });

  test('a payload cut short or of no known layout is refused, not misread', () => {
    const payload = encodeChunk(Array.from({ length: 100 }, (_, i) => metric(i, { value: i * 0.1 }))).payload;
    expect(() => decodeChunk('x', 3, payload.subarray(0, payload.length - 8), undefined)).toThrow(
      /cut short/,
    );
    expect(() => decodeChunk('x', 3, Buffer.from('not a chunk'), undefined)).toThrow(/unknown layout/);
  });
});

/** The first layout's object, as encodeChunk built it before the compact layout. */
function legacyPacked(events: readonly PendingEvent[]): Record<string, unknown> {
  const strings: string[] = [];
  const id = (s: string): number => {
    const i = strings.indexOf(s);
    return i >= 0 ? i : strings.push(s) - 1;
  };
  const allNumbers = events.every((e) => typeof e.value === 'number');
  return {
    strings,
    event: Uint32Array.from(events, (e) => id(e.event)),
    key: Uint32Array.from(events, (e) => id(e.key)),
    node: Uint32Array.from(events, (e) => id(e.node)),
    userid: Uint32Array.from(events, (e) => id(e.userid)),
    dt: Float64Array.from(events, (e) => e.dt),
    step: Float64Array.from(events, (e) => e.step ?? NaN),
    numbers: allNumbers ? Float64Array.from(events, (e) => e.value as number) : undefined,
    values: allNumbers ? undefined : events.map((e) => e.value ?? null),
    jsonAt: allNumbers ? undefined : [],
    extras: undefined,
  };
}
