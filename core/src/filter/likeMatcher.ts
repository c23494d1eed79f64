import { TrackingInputError } from '../errors/TrackingInputError';

/** The longest LIKE / ILIKE pattern a filter may hold, in characters (Unicode code points). */
export const LIKE_PATTERN_MAX = 500;

/** `_` in a compiled segment: any one code point. */
const ANY = -1;

/** A stretch of a pattern between two `%`: code points, ANY for `_`. */
interface Segment {
  points: number[];
  /** The segment as text when it is plain text that indexOf can find (no `_`, no lone surrogate). */
  literal: string | undefined;
  /** For the bit-parallel search: per code point, the positions it may take (its own and the `_`). */
  masks: Map<number, Uint32Array> | undefined;
  /** The positions of the `_`, which every code point may take. */
  wild: Uint32Array | undefined;
}

/** A LIKE pattern compiled once: `test` tells whether a whole text matches it. */
export interface LikeMatcher {
  readonly pattern: string;
  readonly caseless: boolean;
  test(text: string): boolean;
}

const isHigh = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff;

/** The code point that starts at `i` (a lone surrogate is one code point of its own, as in Array.from). */
function pointAt(s: string, i: number): number {
  const unit = s.charCodeAt(i);
  if (isHigh(unit) && i + 1 < s.length) {
    const next = s.charCodeAt(i + 1);
    if (isLow(next)) return (unit - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000;
  }
  return unit;
}

/** The length in UTF-16 units of the code point that starts at `i`. */
function widthAt(s: string, i: number): number {
  return isHigh(s.charCodeAt(i)) && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
}

/** The length in UTF-16 units of the code point that ends just before `i`. */
function widthBefore(s: string, i: number): number {
  return i >= 2 && isLow(s.charCodeAt(i - 1)) && isHigh(s.charCodeAt(i - 2)) ? 2 : 1;
}

/** The characters (code points) of a text, counted without building an array of them. */
export function characterCount(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i += widthAt(s, i)) count++;
  return count;
}

/** Folded code points of the BMP, plus one (0: not folded yet); filled as they are met. */
let bmpFolds: Uint32Array | undefined;
/** The same for code points above the BMP, bounded: a hostile text could hold many. */
const astralFolds = new Map<number, number>();

/**
 * One code point as ILIKE compares it: upper then lower case, each only where it stays one code
 * point ('ς' and 'Σ' fold to 'σ'; 'ß' stays 'ß', as its upper case is 'SS'). Per code point, so
 * that `_` counts the same characters with and without case.
 */
function foldPoint(point: number): number {
  if (point < 0x80) return point >= 0x41 && point <= 0x5a ? point + 0x20 : point;
  if (point < 0x10000) {
    bmpFolds ??= new Uint32Array(0x10000);
    const known = bmpFolds[point];
    if (known !== 0) return known - 1;
  } else {
    const known = astralFolds.get(point);
    if (known !== undefined) return known;
  }
  const self = String.fromCodePoint(point);
  const upper = self.toUpperCase();
  const base = characterCount(upper) === 1 ? upper : self;
  const lower = base.toLowerCase();
  const folded = (characterCount(lower) === 1 ? lower : base).codePointAt(0)!;
  if (point < 0x10000) bmpFolds![point] = folded + 1;
  else if (astralFolds.size < 65_536) astralFolds.set(point, folded);
  return folded;
}

/** A text with every code point folded (one code point for one, so `_` counts alike). */
function foldText(s: string): string {
  // plain ASCII folds as toLowerCase does
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (ascii) return s.toLowerCase();
  const parts: string[] = [];
  // UTF-16 units in chunks, made text a chunk at a time (a bounded argument list)
  const units = new Uint16Array(4096 + 2);
  let n = 0;
  for (let i = 0; i < s.length;) {
    const point = foldPoint(pointAt(s, i));
    i += widthAt(s, i);
    if (point < 0x10000) units[n++] = point;
    else {
      units[n++] = 0xd800 + ((point - 0x10000) >>> 10);
      units[n++] = 0xdc00 + ((point - 0x10000) & 0x3ff);
    }
    if (n >= 4096) {
      parts.push(String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]));
      n = 0;
    }
  }
  parts.push(String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]));
  return parts.join('');
}

function compileSegment(points: number[]): Segment {
  const wellFormed = points.every((p) => p !== ANY && !(p >= 0xd800 && p <= 0xdfff));
  if (wellFormed) {
    let literal = '';
    for (const p of points) literal += String.fromCodePoint(p);
    return { points, literal, masks: undefined, wild: undefined };
  }
  const words = Math.ceil(points.length / 32);
  const wild = new Uint32Array(words);
  points.forEach((p, i) => {
    if (p === ANY) wild[i >>> 5] |= 1 << (i & 31);
  });
  const masks = new Map<number, Uint32Array>();
  points.forEach((p, i) => {
    if (p === ANY) return;
    let mask = masks.get(p);
    if (!mask) masks.set(p, (mask = Uint32Array.from(wild)));
    mask[i >>> 5] |= 1 << (i & 31);
  });
  return { points, literal: undefined, masks, wild };
}

/** Where the segment ends when it matches `s` at `at`; -1 when it does not. */
function matchAt(s: string, at: number, seg: Segment): number {
  let i = at;
  for (const p of seg.points) {
    if (i >= s.length) return -1;
    if (p !== ANY && pointAt(s, i) !== p) return -1;
    i += widthAt(s, i);
  }
  return i;
}

/** Where the segment starts when it matches `s` ending at `end`; -1 when it does not. */
function matchBefore(s: string, end: number, seg: Segment): number {
  let i = end;
  for (let k = seg.points.length - 1; k >= 0; k--) {
    if (i <= 0) return -1;
    const width = widthBefore(s, i);
    i -= width;
    const p = seg.points[k];
    if (p !== ANY && pointAt(s, i) !== p) return -1;
  }
  return i;
}

/**
 * Where the leftmost match of the segment at or after `from` ends; -1 when there is none.
 * Plain text is found by indexOf; a segment with `_` by the bit-parallel Shift-And search over
 * code points: one pass over the text, ceil(length / 32) word operations per code point, never
 * going back. Either way no backtracking: the time is linear in the text.
 */
function findFrom(s: string, from: number, seg: Segment): number {
  if (seg.points.length === 0) return from;
  if (seg.literal !== undefined) {
    // a well-formed literal starts with no low surrogate and ends with no high one: a match
    // never splits a code point
    const at = s.indexOf(seg.literal, from);
    return at < 0 ? -1 : at + seg.literal.length;
  }
  const masks = seg.masks!;
  const wild = seg.wild!;
  const words = wild.length;
  const last = seg.points.length - 1;
  const lastWord = last >>> 5;
  const lastBit = 1 << (last & 31);
  const state = new Uint32Array(words);
  for (let i = from; i < s.length;) {
    const mask = masks.get(pointAt(s, i)) ?? wild;
    i += widthAt(s, i);
    // state bit j: the segment's first j+1 code points end here
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const word = state[w];
      state[w] = ((word << 1) | carry) & mask[w];
      carry = word >>> 31;
    }
    if (state[lastWord] & lastBit) return i;
  }
  return -1;
}

/**
 * Compiles a LIKE pattern: `%` any run of characters (none included), `_` exactly one character,
 * a character being a Unicode code point (an emoji is one); every other character stands for
 * itself (there is no escape: `\` and `.` are plain). `caseless` (ILIKE) compares code points
 * folded one by one. Matching takes time linear in the text: the pattern is cut at its `%` and
 * each stretch between them is found leftmost, in one pass, which is all a `%` ever needs.
 */
export function compileLike(pattern: string, caseless = false): LikeMatcher {
  if (typeof pattern !== 'string')
    throw new TrackingInputError(`a LIKE pattern is text, got ${typeof pattern}`);
  const segments: Segment[] = [];
  let points: number[] = [];
  let count = 0;
  for (let i = 0; i < pattern.length;) {
    const point = pointAt(pattern, i);
    i += widthAt(pattern, i);
    if (point === 0x25 /* % */) {
      segments.push(compileSegment(points));
      points = [];
    } else points.push(point === 0x5f /* _ */ ? ANY : caseless ? foldPoint(point) : point);
    if (++count > LIKE_PATTERN_MAX)
      throw new TrackingInputError(
        `a LIKE pattern is at most ${LIKE_PATTERN_MAX} characters, got one of ${characterCount(pattern)}`,
      );
  }
  segments.push(compileSegment(points));
  const first = segments[0];
  const lastSegment = segments[segments.length - 1];
  const middle = segments.slice(1, -1).filter((seg) => seg.points.length > 0);
  return {
    pattern,
    caseless,
    test(input: string): boolean {
      const s = caseless ? foldText(input) : input;
      let at = matchAt(s, 0, first);
      if (at < 0) return false;
      if (segments.length === 1) return at === s.length;
      // leftmost placements leave the most room to what follows
      for (const seg of middle) {
        at = findFrom(s, at, seg);
        if (at < 0) return false;
      }
      const start = matchBefore(s, s.length, lastSegment);
      return start >= at;
    },
  };
}
