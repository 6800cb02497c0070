// What the YAML and JSON readers give back: the plain value, the place of every
// key and value in the text (so a schema problem can name its line and
// column), and the problems met on the way. Also the limits both enforce.

/** Bytes of a config file: real configs are a few hundred. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Keys and list items, counted after aliases are expanded; the schema has about 40 keys. */
export const MAX_CONFIG_ENTRIES = 10_000;
/** Mappings and lists inside each other; the schema's deepest key (data.train.images) is 3 levels down. */
export const MAX_CONFIG_DEPTH = 32;

export const entriesProblem = (found: number): string =>
  `${found} keys and list items are more than the ${MAX_CONFIG_ENTRIES}-entry limit for a config file`;
export const DEPTH_PROBLEM = `nesting deeper than the ${MAX_CONFIG_DEPTH}-level limit for a config file`;

/** A problem at an offset of the text (or of the whole text), about the key at path ([] = none). */
export interface TreeProblem {
  offset?: number;
  path: string[];
  problem: string;
  /** The value at path was left out (or read as null): the schema's complaints about it would be noise. */
  leftOut?: boolean;
}

export interface Tree {
  value: unknown;
  places: Places;
  problems: TreeProblem[];
  /** The problems leave no value worth validating (syntax, limits). */
  fatal: boolean;
}

/** Offsets of keys and values by path; a key's place is its first character, a value's too. */
export class Places {
  private readonly byPath = new Map<string, { key?: number; value: number }>();

  set(path: readonly string[], value: number, key?: number): void {
    this.byPath.set(JSON.stringify(path), { key, value });
  }

  /** The offset of the key at path (for an unknown key) or of its value (for a wrong one). */
  get(path: readonly string[], part: 'key' | 'value'): number | undefined {
    const place = this.byPath.get(JSON.stringify(path));
    return place === undefined ? undefined : part === 'key' ? (place.key ?? place.value) : place.value;
  }
}

/** Offsets -> 1-based line and column (UTF-16 units, as editors count). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  at(offset: number): { line: number; col: number } {
    // the last line start <= offset, by bisection
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo] + 1 };
  }

  /** "line 3, column 7", for a message that points at a second place. */
  describe(offset: number): string {
    const { line, col } = this.at(offset);
    return `line ${line}, column ${col}`;
  }
}
