/**
 * A parser for the small subset of Python literals that .npy headers use:
 * dicts, tuples, lists, quoted strings, integers (with Python 2's `L` suffix),
 * True, False and None. It never evaluates anything, as NumPy's reader does not.
 */

export type PyValue = string | number | boolean | null | PyTuple | PyList | PyDict;
export interface PyTuple { readonly kind: 'tuple'; readonly items: readonly PyValue[] }
export interface PyList { readonly kind: 'list'; readonly items: readonly PyValue[] }
export interface PyDict { readonly kind: 'dict'; readonly entries: readonly (readonly [PyValue, PyValue])[] }

/** Thrown with the character offset where parsing stopped; callers add the file name. */
export class PyLiteralError extends Error {
  override name = 'PyLiteralError';
  constructor(message: string, readonly offset: number) { super(message); }
}

const integer = /-?\d+[lL]?/y; // sticky: matches at lastIndex only
const closers = { '(': ')', '[': ']', '{': '}' } as const;
const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

/**
 * Parses one Python literal; only whitespace may follow it.
 * @example parsePyLiteral("{'shape': (2, 3), }") // { kind: 'dict', entries: [['shape', { kind: 'tuple', items: [2, 3] }]] }
 */
export function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const fail = (what: string): never => {
    const got = pos < text.length ? JSON.stringify(text.slice(pos, pos + 12)) : 'the end of the text';
    throw new PyLiteralError(`expected ${what} at character ${pos}, got ${got}`, pos);
  };
  const skipSpace = () => { while (pos < text.length && ' \t\r\n'.includes(text[pos]!)) pos++; };

  const parseString = (): string => {
    const quote = text[pos++]!;
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] === '\n') fail(`a closing ${quote}`);
      if (text[pos] === '\\') {
        const e = escapes[text[pos + 1] ?? ''];
        if (e === undefined) fail('a simple escape (\\n, \\t, \\r, \\0, \\\\, \\\', \\")');
        out += e;
        pos += 2;
      } else out += text[pos++];
    }
    if (pos >= text.length) fail(`a closing ${quote}`);
    pos++;
    return out;
  };

  const parseNumber = (): number => {
    integer.lastIndex = pos;
    const match = integer.exec(text);
    if (!match) return fail('a value');
    if (/[.eEjJ]/.test(text[pos + match[0].length] ?? '')) fail('an integer (floats and complex numbers are not supported)');
    pos += match[0].length;
    const value = Number(match[0].replace(/[lL]$/, ''));
    if (!Number.isSafeInteger(value)) { pos -= match[0].length; fail('an integer below 2^53'); }
    return value;
  };

  /** Items up to the closing bracket, with an optional trailing comma; `tuple` notes `(x)` vs `(x,)`. */
  const parseItems = (open: keyof typeof closers, parseItem: () => void): boolean => {
    const close = closers[open];
    pos++;
    let sawComma = false;
    for (;;) {
      skipSpace();
      if (text[pos] === close) { pos++; return sawComma; }
      parseItem();
      skipSpace();
      if (text[pos] === ',') { pos++; sawComma = true; continue; }
      if (text[pos] === close) { pos++; return sawComma; }
      fail(`',' or '${close}'`);
    }
  };

  let depth = 0;
  const parseValue = (): PyValue => {
    skipSpace();
    const c = text[pos];
    if (depth > 32 && (c === '{' || c === '[' || c === '(')) fail('at most 32 levels of nesting');
    depth++;
    try { return parseOne(c); } finally { depth--; }
  };

  const parseOne = (c: string | undefined): PyValue => {
    if (c === "'" || c === '"') return parseString();
    if (c === '{') {
      const entries: [PyValue, PyValue][] = [];
      parseItems('{', () => {
        const key = parseValue();
        skipSpace();
        if (text[pos] !== ':') fail("':'");
        pos++;
        entries.push([key, parseValue()]);
      });
      return { kind: 'dict', entries };
    }
    if (c === '[') {
      const items: PyValue[] = [];
      parseItems('[', () => items.push(parseValue()));
      return { kind: 'list', items };
    }
    if (c === '(') {
      const items: PyValue[] = [];
      const comma = parseItems('(', () => items.push(parseValue()));
      // `(x)` is just x in Python; `(x,)` and `()` are tuples
      return items.length === 1 && !comma ? items[0]! : { kind: 'tuple', items };
    }
    for (const [word, value] of [['True', true], ['False', false], ['None', null]] as const) {
      if (text.startsWith(word, pos) && !/\w/.test(text[pos + word.length] ?? '')) { pos += word.length; return value; }
    }
    return parseNumber();
  };

  const value = parseValue();
  skipSpace();
  if (pos < text.length) fail('the end of the literal');
  return value;
}

/** Python's repr of a value, for error messages. */
export function pyRepr(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return String(value);
  if (value.kind === 'dict') return `{${value.entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  const inner = value.items.map(pyRepr).join(', ');
  return value.kind === 'list' ? `[${inner}]` : `(${inner}${value.items.length === 1 ? ',' : ''})`;
}
