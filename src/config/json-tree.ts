// JSON text -> Tree, by a small RFC 8259 reader: JSON's own words for its
// syntax errors (JSON.parse's differ across Node versions and not all give a
// place), the place of every key and value, duplicate keys found (the first
// one stays), and the entries and depth bounded by a scan before any value is
// built. Whitespace only = no config (all defaults), as for an empty YAML file.
import { setOwn, type Mapping } from './mapping.js';
import { DEPTH_PROBLEM, LineIndex, MAX_CONFIG_DEPTH, MAX_CONFIG_ENTRIES, Places, entriesProblem, type Tree, type TreeProblem } from './tree.js';

export function readJsonTree(text: string, lines: LineIndex): Tree {
  const reader = new JsonReader(text, lines);
  const tooBig = prescan(text);
  if (tooBig !== undefined) return { value: undefined, places: reader.places, problems: [tooBig], fatal: true };
  try {
    const value = reader.document();
    return { value, places: reader.places, problems: reader.problems, fatal: false };
  } catch (err) {
    if (!(err instanceof SyntaxProblem)) throw err;
    return { value: undefined, places: reader.places, problems: [err.problem], fatal: true };
  }
}

/**
 * Before reading: the entries (members, and items of lists) and the depth,
 * from a plain scan of the characters that skips strings; a count only
 * (syntax is the reader's), exact for valid JSON.
 */
function prescan(text: string): TreeProblem | undefined {
  let entries = 0;
  const open: number[] = []; // char codes of the open [ and {
  let inString = false;
  let listStart = false; // just after [: the first item, if any, comes next
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // \ escapes the next character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (listStart && c !== 0x5d) entries++;
    listStart = false;
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      open.push(c);
      if (open.length > MAX_CONFIG_DEPTH) return { offset: i, path: [], problem: DEPTH_PROBLEM };
      listStart = c === 0x5b;
    } else if (c === 0x5d || c === 0x7d) open.pop();
    else if (c === 0x3a) entries++; // : a member
    else if (c === 0x2c && open[open.length - 1] === 0x5b) entries++; // , the next item of a list
  }
  return entries > MAX_CONFIG_ENTRIES ? { path: [], problem: entriesProblem(entries) } : undefined;
}

class SyntaxProblem extends Error {
  constructor(readonly problem: TreeProblem) {
    super(problem.problem);
  }
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u']);

class JsonReader {
  readonly places = new Places();
  readonly problems: TreeProblem[] = [];
  private i = 0;

  constructor(
    private readonly text: string,
    private readonly lines: LineIndex,
  ) {}

  document(): unknown {
    this.space();
    if (this.i === this.text.length) {
      this.places.set([], 0);
      return null;
    }
    const value = this.value([], 0);
    this.space();
    if (this.i < this.text.length) this.fail('expected the end of the file after the value');
    return value;
  }

  private value(path: string[], depth: number, key?: number): unknown {
    const c = this.text[this.i];
    this.places.set(path, this.i, key);
    if (c === '{' || c === '[') {
      if (depth >= MAX_CONFIG_DEPTH) throw new SyntaxProblem({ offset: this.i, path: [], problem: DEPTH_PROBLEM });
      return c === '{' ? this.object(path, depth) : this.array(path, depth);
    }
    if (c === '"') return this.string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.i) && !/[\w$]/.test(this.text[this.i + word.length] ?? '')) {
        this.i += word.length;
        return v;
      }
    }
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    return this.fail('expected a value');
  }

  private object(path: string[], depth: number): Mapping {
    const out: Mapping = {};
    const seen = new Map<string, number>();
    this.i++; // {
    this.space();
    if (this.eat('}')) return out;
    for (;;) {
      if (this.text[this.i] !== '"') this.fail('expected a key in double quotes');
      const keyAt = this.i;
      const key = this.string();
      this.space();
      if (!this.eat(':')) this.fail('expected \':\' after the key');
      this.space();
      const childPath = [...path, key];
      const first = seen.get(key);
      // A duplicate is read (its syntax must hold) but the first one stays.
      const v = this.value(first === undefined ? childPath : [...path, `${key} (duplicate)`], depth + 1, keyAt);
      if (first === undefined) {
        seen.set(key, keyAt);
        setOwn(out, key, v);
      } else {
        this.problems.push({ offset: keyAt, path: childPath, problem: `duplicate key (first at ${this.lines.describe(first)})` });
      }
      this.space();
      if (this.eat('}')) return out;
      if (!this.eat(',')) this.fail('expected \',\' or \'}\' after a member');
      this.space();
    }
  }

  private array(path: string[], depth: number): unknown[] {
    const out: unknown[] = [];
    this.i++; // [
    this.space();
    if (this.eat(']')) return out;
    for (;;) {
      out.push(this.value([...path, String(out.length)], depth + 1));
      this.space();
      if (this.eat(']')) return out;
      if (!this.eat(',')) this.fail('expected \',\' or \']\' after an item');
      this.space();
    }
  }

  /** A string token from its opening quote; its value through JSON.parse once it is known to be valid. */
  private string(): string {
    const start = this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined || c === '\n' || c === '\r') {
        throw new SyntaxProblem({ offset: start, path: [], problem: 'JSON syntax error: unterminated string (missing closing ")' });
      }
      if (c === '"') break;
      if (c < ' ') this.stop(`control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} in a string (write it as an escape)`);
      if (c === '\\') {
        const e = this.text[this.i + 1] ?? '';
        const hex = /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6));
        if (!ESCAPES.has(e) || (e === 'u' && !hex)) this.stop(`invalid escape \\${e === 'u' ? this.text.slice(this.i + 1, this.i + 6) : e} in a string`);
        this.i += e === 'u' ? 6 : 2;
      } else {
        this.i++;
      }
    }
    this.i++;
    return JSON.parse(this.text.slice(start, this.i)) as string;
  }

  private number(): number {
    const start = this.i;
    while (/[-+.\deE]/.test(this.text[this.i] ?? '')) this.i++;
    const token = this.text.slice(start, this.i);
    if (!NUMBER.test(token)) {
      if (token === '-' && this.text.startsWith('Infinity', this.i)) {
        this.i = start;
        this.fail('expected a value');
      }
      throw new SyntaxProblem({ offset: start, path: [], problem: `JSON syntax error: invalid number ${clipWord(token)}` });
    }
    return Number(token);
  }

  private space(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i])) this.i++;
  }

  private eat(c: string): boolean {
    if (this.text[this.i] !== c) return false;
    this.i++;
    return true;
  }

  /** A syntax error at the current place. */
  private stop(problem: string): never {
    throw new SyntaxProblem({ offset: this.i, path: [], problem: `JSON syntax error: ${problem}` });
  }

  /** "expected X, found Y" at the current place, with a hint for the usual non-JSON habits. */
  private fail(expected: string): never {
    const rest = this.text.slice(this.i, this.i + 40);
    const word = /^-?[A-Za-z_$][\w$]*/.exec(rest)?.[0];
    let found: string;
    let hint = '';
    if (rest === '') found = 'the end of the file';
    else if (word !== undefined) {
      found = clipWord(word);
      hint = /^-?(NaN|Infinity)$/.test(word) ? ' (JSON has no NaN or Infinity)' : ' (strings need double quotes)';
    } else if (rest[0] === '"') found = /^"(?:[^"\\\n]|\\.){0,30}"/.exec(rest)?.[0] ?? 'a string';
    else {
      found = `'${rest[0]}'`;
      if (rest[0] === "'") hint = ' (strings need double quotes)';
      else if (rest[0] === '/' || rest[0] === '#') hint = ' (JSON has no comments)';
      else if ((rest[0] === '}' || rest[0] === ']') && this.afterComma()) hint = ' (JSON allows no comma after the last item)';
    }
    this.stop(`${expected}, found ${found}${hint}`);
  }

  private afterComma(): boolean {
    let j = this.i - 1;
    while (j >= 0 && ' \t\n\r'.includes(this.text[j])) j--;
    return this.text[j] === ',';
  }
}

function clipWord(word: string): string {
  return word.length <= 24 ? word : `${word.slice(0, 21)}...`;
}
