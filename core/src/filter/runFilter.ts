import { TrackingInputError } from '../errors/TrackingInputError';
import { FILTER_TIME_FORMS, filterTime } from './filterValues';
import { LIKE_PATTERN_MAX, characterCount } from './likeMatcher';

/** Which value of a metric a filter or an ordering compares (see MetricAggregate). */
export type MetricAggregateName = 'last' | 'min' | 'max' | 'mean';

/** The names a metric field may end in (`metrics.acc.max`): its last value, min, max or mean. */
export const METRIC_AGGREGATES: readonly MetricAggregateName[] = ['last', 'min', 'max', 'mean'];

/** What a filter or an ordering names: a metric, a param, a tag or an attribute of a run. */
export interface RunField {
  entity: 'metric' | 'param' | 'tag' | 'attribute';
  key: string;
  /** Of a metric, the value compared when not its last one (`metrics.acc.max`); absent for the last. */
  aggregate?: Exclude<MetricAggregateName, 'last'>;
}

/** The comparison operators of MLflow's run filter syntax. */
export type FilterOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/** A literal of a filter: text or a number. */
export type FilterLiteral = string | number;

/** One comparison: `metrics.acc > 0.9`, `params.lr IN ('0.1', '0.01')`. */
export interface FilterComparison {
  field: RunField;
  op: FilterOperator;
  value: FilterLiteral | FilterLiteral[];
}

/** A parsed filter: comparisons that must all hold (MLflow's syntax has AND only). */
export interface RunFilter {
  all: FilterComparison[];
  /** The text it was parsed from. */
  text: string;
}

/** One key of an ordering: `metrics.acc DESC`. */
export interface RunOrderKey {
  field: RunField;
  descending: boolean;
}

/**
 * A filter or ordering that does not parse: `position` is the 0-based character offset in the
 * text where the parser stopped, `expected` what it would have taken there.
 */
export class FilterSyntaxError extends TrackingInputError {
  static override readonly errorName: string = 'FilterSyntaxError';

  constructor(
    readonly text: string,
    readonly position: number,
    readonly expected: string,
    found?: string,
  ) {
    super(
      `filter ${JSON.stringify(text)} at position ${position}: expected ${expected}${found ? `, found ${found}` : ''}`,
    );
  }
}

/** The attributes a filter can name (MLflow's, and ours: run number, duration, node, user, parent). */
export const RUN_ATTRIBUTES = [
  'run',
  'run_name',
  'status',
  'start_time',
  'end_time',
  'duration',
  'node',
  'userid',
  'parent',
] as const;

/** The attributes that hold numbers (times in ms since the epoch, durations in ms). */
export const NUMERIC_ATTRIBUTES: ReadonlySet<string> = new Set([
  'run',
  'start_time',
  'end_time',
  'duration',
  'parent',
]);

/** The attributes that hold times: they also compare with ISO dates ('2026-12-01'; see filterTime). */
export const TIME_ATTRIBUTES: ReadonlySet<string> = new Set(['start_time', 'end_time']);

/** Other names MLflow users write for some attributes. */
const ATTRIBUTE_ALIASES: Record<string, string> = {
  name: 'run_name',
  run_number: 'run',
  user: 'userid',
  user_id: 'userid',
};

const ENTITIES: Record<string, RunField['entity']> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'quoted'; text: string; at: number; quote: string }
  | { kind: 'number'; value: number; text: string; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'punct'; text: '(' | ')' | ',' | '.'; at: number }
  | { kind: 'end'; at: number };

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
/** The names of METRIC_AGGREGATES, as a metric key may end in them. */
const AGGREGATE = /^(last|min|max|mean)$/;
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y;
const OPERATOR = /!=|<>|<=|>=|==|=|<|>/y;

/** Splits filter text into tokens; an unterminated string or a stray character is a FilterSyntaxError. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const start = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw new FilterSyntaxError(text, start, `the closing ${c} of the text that starts here`);
        if (text[i] === c) {
          // a doubled quote stands for itself, as in SQL
          if (text[i + 1] === c) {
            out += c;
            i += 2;
            continue;
          }
          break;
        }
        if (text[i] === '\\' && i + 1 < text.length) {
          out += text[i + 1];
          i += 2;
          continue;
        }
        out += text[i++];
      }
      i++;
      tokens.push({ kind: 'quoted', text: out, at: start, quote: c });
      continue;
    }
    // a '.' right after a name joins the parts of a key (metrics.layer.0.units); elsewhere
    // before a digit it starts a number (.5)
    const joinsKey = c === '.' && /[A-Za-z0-9_]/.test(text[i - 1] ?? '');
    if ('(),.'.includes(c) && (joinsKey || !(c === '.' && /\d/.test(text[i + 1] ?? '')))) {
      tokens.push({ kind: 'punct', text: c as '(' | ')' | ',' | '.', at: i });
      i++;
      continue;
    }
    OPERATOR.lastIndex = i;
    const op = OPERATOR.exec(text);
    if (op) {
      tokens.push({ kind: 'op', text: op[0] === '==' ? '=' : op[0] === '<>' ? '!=' : op[0], at: i });
      i += op[0].length;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num && (/[\d.]/.test(c) || ((c === '-' || c === '+') && /[\d.]/.test(text[i + 1] ?? '')))) {
      const value = Number(num[0]);
      // 1e999999 would compare as Infinity, a number no value is: refused rather than guessed
      if (!Number.isFinite(value))
        throw new FilterSyntaxError(
          text,
          i,
          `a number from -${Number.MAX_VALUE} to ${Number.MAX_VALUE}`,
          num[0].length > 40 ? `${num[0].slice(0, 40)}…` : num[0],
        );
      tokens.push({ kind: 'number', value, text: num[0], at: i });
      i += num[0].length;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw new FilterSyntaxError(text, i, 'a name, a value or an operator', `'${c}'`);
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the filter';
    case 'quoted':
      return `${token.quote}${token.text}${token.quote}`;
    case 'number':
      return token.text;
    default:
      return `'${token.text}'`;
  }
}

/** A cursor over the tokens with the text, for errors that point at a position. */
class Parser {
  private i = 0;
  constructor(
    readonly text: string,
    private readonly tokens: Token[],
  ) {}

  peek(): Token {
    return this.tokens[this.i];
  }

  next(): Token {
    return this.tokens[this.i++];
  }

  fail(expected: string, token = this.peek()): never {
    throw new FilterSyntaxError(this.text, token.at, expected, describe(token));
  }

  isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  isWord(word: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text.toUpperCase() === word;
  }

  /** `entity.key`, with the key plain (dots allowed), backticked or double-quoted. */
  field(defaultEntity?: RunField['entity']): RunField {
    const first = this.next();
    if (first.kind !== 'word' && !(first.kind === 'quoted' && first.quote === '`' && defaultEntity))
      this.fail('a name such as metrics.acc, params.lr, tags.team or attributes.status', first);
    if (!this.isPunct('.')) {
      // a bare name: allowed only where MLflow allows it (order_by: `start_time DESC`)
      if (!defaultEntity) this.fail(`'.' after '${first.text}' (as in metrics.${first.text})`);
      return this.attribute(first.text, first);
    }
    const entity = ENTITIES[first.text.toLowerCase()];
    if (!entity)
      throw new FilterSyntaxError(
        this.text,
        first.at,
        'metrics, params, tags or attributes',
        `'${first.text}'`,
      );
    this.next();
    const keyToken = this.next();
    let key: string;
    let aggregate: string | undefined;
    if (keyToken.kind === 'quoted' && keyToken.quote !== "'") {
      key = keyToken.text;
      // a quoted metric key may be followed by the value compared: metrics.`acc`.max
      if (entity === 'metric' && this.isPunct('.')) {
        this.next();
        const name = this.next();
        aggregate = name.kind === 'word' ? name.text : '';
        if (!AGGREGATE.test(aggregate)) this.fail("last, min, max or mean after '.'", name);
      }
    } else if (keyToken.kind === 'word' || keyToken.kind === 'number') {
      // a plain key runs on through dots, as written: metrics.val.loss is the metric 'val.loss',
      // params.layer.0.units the param 'layer.0.units' (its parts may have been read as numbers)
      key = keyToken.text;
      let end = keyToken.at + key.length;
      for (;;) {
        const t = this.peek();
        if (t.at !== end) break;
        if (!(
          t.kind === 'word' ||
          (t.kind === 'number' && /^[0-9.]/.test(t.text)) ||
          (t.kind === 'punct' && t.text === '.')
        ))
          break;
        this.next();
        const part = t.kind === 'punct' ? '.' : t.text;
        key += part;
        end += part.length;
      }
      if (!/^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/.test(key))
        this.fail(
          `a key name: letters, digits and _ in parts joined by single dots (use backticks for other characters)`,
          keyToken,
        );
      // metrics.acc.max is the metric 'acc', its max; a key that itself ends so is backticked
      const split = entity === 'metric' ? /^(.+)\.(last|min|max|mean)$/.exec(key) : null;
      if (split) [, key, aggregate] = split;
    } else
      this.fail(
        `the name of a ${entity} after '${first.text}.' (use backticks for other characters)`,
        keyToken,
      );
    if (key.length === 0) this.fail('a key name', keyToken);
    if (entity === 'attribute') return this.attribute(key, keyToken);
    return aggregate && aggregate !== 'last'
      ? { entity, key, aggregate: aggregate as RunField['aggregate'] }
      : { entity, key };
  }

  private attribute(name: string, token: Token): RunField {
    const key = ATTRIBUTE_ALIASES[name.toLowerCase()] ?? name.toLowerCase();
    if (!(RUN_ATTRIBUTES as readonly string[]).includes(key))
      throw new FilterSyntaxError(
        this.text,
        token.at,
        `an attribute: ${RUN_ATTRIBUTES.join(', ')}`,
        `'${name}'`,
      );
    return { entity: 'attribute', key };
  }

  /** A value; its position is pushed on `at`, for errors about it. */
  literal(after: string, at: number[]): FilterLiteral {
    const t = this.next();
    at.push(t.at);
    if (t.kind === 'number') return t.value;
    if (t.kind === 'quoted' && t.quote !== '`') return t.text;
    return this.fail(`a value (a 'quoted text' or a number) after ${after}`, t);
  }

  comparison(): FilterComparison {
    const field = this.field();
    const opToken = this.next();
    let op: FilterOperator | undefined;
    if (opToken.kind === 'op') op = opToken.text as FilterOperator;
    else if (opToken.kind === 'word') {
      const word = opToken.text.toUpperCase();
      if (word === 'NOT') {
        if (!this.isWord('IN')) this.fail("IN after 'NOT'");
        this.next();
        op = 'NOT IN';
      } else if (word === 'LIKE' || word === 'ILIKE' || word === 'IN') op = word;
    }
    if (!op) return this.fail('an operator: = != < <= > >= LIKE ILIKE IN NOT IN', opToken);
    let value: FilterLiteral | FilterLiteral[];
    const at: number[] = [];
    if (op === 'IN' || op === 'NOT IN') {
      if (!this.isPunct('(')) this.fail(`'(' after ${op}`);
      this.next();
      value = [this.literal(`'('`, at)];
      while (!this.isPunct(')')) {
        if (!this.isPunct(',')) this.fail("',' or ')' in the list");
        this.next();
        value.push(this.literal("','", at));
      }
      this.next();
    } else value = this.literal(`'${op}'`, at);
    checkTypes(this, field, op, value, opToken, at);
    return { field, op, value };
  }
}

/**
 * Refuses comparisons that can never mean anything: text patterns on numbers, text for a metric
 * or a numeric attribute. An error about a value points at that value, one about the operator at it.
 */
function checkTypes(
  p: Parser,
  field: RunField,
  op: FilterOperator,
  value: FilterLiteral | FilterLiteral[],
  opToken: Token,
  at: readonly number[],
): void {
  const values = Array.isArray(value) ? value : [value];
  const numeric =
    field.entity === 'metric' || (field.entity === 'attribute' && NUMERIC_ATTRIBUTES.has(field.key));
  const like = op === 'LIKE' || op === 'ILIKE';
  if (numeric && like)
    throw new FilterSyntaxError(
      p.text,
      opToken.at,
      `a comparison of numbers (${op} compares text; ${label(field)} is a number)`,
      `'${op}'`,
    );
  values.forEach((v, i) => {
    if (typeof v !== 'string') return;
    if (field.entity === 'metric')
      throw new FilterSyntaxError(p.text, at[i], `a number to compare ${label(field)} with`, shown(v));
    if (
      field.entity === 'attribute' &&
      NUMERIC_ATTRIBUTES.has(field.key) &&
      (!TIME_ATTRIBUTES.has(field.key) || filterTime(v) === undefined)
    )
      throw new FilterSyntaxError(
        p.text,
        at[i],
        TIME_ATTRIBUTES.has(field.key)
          ? `a time to compare ${label(field)} with: ${FILTER_TIME_FORMS}`
          : `a number to compare ${label(field)} with`,
        shown(v),
      );
  });
  if (like && typeof value !== 'string')
    throw new FilterSyntaxError(p.text, at[0], `a 'quoted' pattern after ${op}`, String(value));
  if (like && characterCount(value as string) > LIKE_PATTERN_MAX)
    throw new FilterSyntaxError(
      p.text,
      at[0],
      `a pattern of at most ${LIKE_PATTERN_MAX} characters after ${op}`,
      `one of ${characterCount(value as string)}`,
    );
}

/** A value as an error shows it: quoted, and cut short when long. */
function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

function label(field: RunField): string {
  return `${field.entity === 'attribute' ? 'attributes' : field.entity + 's'}.${field.key}`;
}

/**
 * Parses a run filter in MLflow's search syntax: comparisons joined by AND, each
 * `<entity>.<key> <op> <value>` with entity `metrics`, `params`, `tags` or `attributes` (MLflow's
 * aliases too), keys plain or in backticks, a metric key optionally followed by the value
 * compared (`metrics.acc.max`, ``metrics.`acc`.mean``; last by default), operators `= != < <= > >= LIKE ILIKE IN NOT IN`,
 * values 'quoted' or numbers. An empty filter matches every run. No text ever becomes code or
 * SQL: the result is data, which the stores evaluate.
 */
export function parseRunFilter(text: string | undefined): RunFilter {
  if (text === undefined) return { all: [], text: '' };
  if (typeof text !== 'string') throw new TrackingInputError(`a filter is text, got ${typeof text}`);
  const p = new Parser(text, tokenize(text));
  const all: FilterComparison[] = [];
  if (p.peek().kind === 'end') return { all, text };
  for (;;) {
    all.push(p.comparison());
    const t = p.peek();
    if (t.kind === 'end') return { all, text };
    if (p.isWord('AND')) {
      p.next();
      continue;
    }
    if (p.isWord('OR')) p.fail("AND (MLflow's filter syntax has no OR: run two searches)");
    p.fail('AND or the end of the filter');
  }
}

/**
 * Parses an ordering: each entry `<field> [ASC|DESC]` (`'metrics.acc DESC'`, `'start_time'`,
 * `'-metrics.acc'` for descending, as the CLI's `--sort`), bare names being attributes.
 */
export function parseRunOrder(orderBy: string | readonly string[] | undefined): RunOrderKey[] {
  if (orderBy === undefined) return [];
  const entries = typeof orderBy === 'string' ? [orderBy] : orderBy;
  if (!Array.isArray(entries) || entries.some((e) => typeof e !== 'string'))
    throw new TrackingInputError('orderBy is a list of texts such as "metrics.acc DESC"');
  return entries.map((entry: string) => {
    let text = entry.trim();
    let descending = false;
    if (text.startsWith('-')) {
      descending = true;
      text = text.slice(1);
    }
    const p = new Parser(text, tokenize(text));
    const field = p.field('attribute');
    if (p.isWord('DESC')) {
      descending = true;
      p.next();
    } else if (p.isWord('ASC')) p.next();
    if (p.peek().kind !== 'end') p.fail('ASC, DESC or the end of the ordering');
    return { field, descending };
  });
}
