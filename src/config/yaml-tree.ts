// YAML text -> Tree. The yaml package parses (its own duplicate-key check is
// quadratic in the keys of a mapping, so it is off and done here with a Set);
// the walk below turns the nodes into plain values, noting each one's place,
// and refuses what a config cannot mean: tags beyond the plain types
// (`!!omap`, `!!set`, `!!binary`, `!custom`), duplicate keys, keys that are
// lists or mappings, aliases without an anchor (or inside their own). A lexer
// pass first counts the entries and measures the nesting, so that neither a
// file of 100,000 keys nor `[[[[...` nor `- - - - ...` reaches the parser.
import { CST, Lexer, isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { setOwn, type Mapping } from './mapping.js';
import {
  DEPTH_PROBLEM,
  LineIndex,
  MAX_CONFIG_DEPTH,
  MAX_CONFIG_ENTRIES,
  Places,
  entriesProblem,
  type Tree,
  type TreeProblem,
} from './tree.js';

/** The tags of plain values; anything else (omap, set, binary, timestamp, local tags) is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

export function readYamlTree(text: string, lines: LineIndex): Tree {
  const places = new Places();
  const tooBig = prescan(text);
  if (tooBig !== undefined) return { value: undefined, places, problems: [tooBig], fatal: true };
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, schema: 'core' });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({ offset: e.pos[0], path: [], problem: `YAML syntax error: ${firstLine(e.message)}` }));
    return { value: undefined, places, problems, fatal: true };
  }
  const walk = new Walk(places, lines);
  try {
    const value = walk.node(doc.contents, [], 0, 0);
    return { value: value === OMIT ? null : value, places, problems: walk.problems, fatal: false };
  } catch (err) {
    if (!(err instanceof Fatal)) throw err;
    return { value: undefined, places, problems: [err.problem], fatal: true };
  }
}

/** A problem that ends the walk (a limit). */
class Fatal extends Error {
  constructor(readonly problem: TreeProblem) {
    super(problem.problem);
  }
}

/** Left out of its mapping: the problem is reported, the rest is still checked. */
const OMIT = Symbol('omit');

class Walk {
  readonly problems: TreeProblem[] = [];
  private entries = 0;
  /** Anchors defined so far in document order (not while expanding an alias: an anchor means its last definition before the alias). */
  private readonly anchors = new Map<string, Node>();
  private expanding = 0;
  private readonly open = new Set<Node>();

  constructor(
    private readonly places: Places,
    private readonly lines: LineIndex,
  ) {}

  /** The plain value of node (null = an empty document or value), its place noted at path. */
  node(node: unknown, path: string[], depth: number, fallback: number, key?: number): unknown {
    if (node === null || node === undefined) {
      this.places.set(path, fallback, key);
      return null;
    }
    const n = node as Node;
    const at = n.range?.[0] ?? fallback;
    this.places.set(path, at, key);
    if (isAlias(n)) return this.alias(n.source, path, depth, at, key);
    if (n.anchor !== undefined && this.expanding === 0) this.anchors.set(n.anchor, n);
    if (!plainTag(n)) {
      return this.omit(at, path, `YAML tag ${shortTag(n.tag)} is not supported (a config holds plain mappings, lists, strings, numbers, true/false and null)`);
    }
    if (isScalar(n)) return n.value;
    if (depth >= MAX_CONFIG_DEPTH) throw new Fatal({ offset: at, path: [], problem: DEPTH_PROBLEM });
    this.open.add(n);
    try {
      if (isSeq(n)) {
        const out: unknown[] = [];
        n.items.forEach((item, i) => {
          this.count();
          const v = this.node(item, [...path, String(i)], depth + 1, at);
          out.push(v === OMIT ? null : v);
        });
        return out;
      }
      if (isMap(n)) return this.map(n.items, path, depth, at);
    } finally {
      this.open.delete(n);
    }
    return this.omit(at, path, 'not a plain value');
  }

  private map(pairs: ReadonlyArray<{ key: unknown; value: unknown }>, path: string[], depth: number, at: number): Mapping {
    const out: Mapping = {};
    const seen = new Map<string, number>();
    for (const pair of pairs) {
      this.count();
      const keyNode = pair.key as Node | null;
      const keyAt = keyNode?.range?.[0] ?? at;
      if (keyNode !== null && (!isScalar(keyNode) || !plainTag(keyNode))) {
        // the pair is dropped; its mapping is still checked
        const what = !plainTag(keyNode) ? `tagged ${shortTag(keyNode.tag)}` : isAlias(keyNode) ? 'an alias' : isSeq(keyNode) ? 'a list' : 'a mapping';
        this.problems.push({ offset: keyAt, path, problem: `a key must be a plain word, not ${what}` });
        continue;
      }
      const key = keyNode === null || keyNode.value === null ? '' : String(keyNode.value);
      const childPath = [...path, key];
      const first = seen.get(key);
      if (first !== undefined) {
        // the first one stays
        this.problems.push({ offset: keyAt, path: childPath, problem: `duplicate key (first at ${this.lines.describe(first)})` });
        continue;
      }
      seen.set(key, keyAt);
      const v = this.node(pair.value, childPath, depth + 1, keyAt, keyAt);
      if (v !== OMIT) setOwn(out, key, v);
    }
    return out;
  }

  /** An alias's value is its anchor's, walked again; its places are those of the anchor's text. */
  private alias(name: string, path: string[], depth: number, at: number, key: number | undefined): unknown {
    const target = this.anchors.get(name);
    if (target === undefined) return this.omit(at, path, `YAML alias *${name} has no anchor &${name} before it`);
    if (this.open.has(target)) return this.omit(at, path, `YAML alias *${name} lies inside its own anchor &${name}`);
    this.expanding++;
    try {
      return this.node(target, path, depth, at, key);
    } finally {
      this.expanding--;
    }
  }

  private count(): void {
    if (++this.entries > MAX_CONFIG_ENTRIES) {
      const problem = `keys and list items (aliases expanded) exceed the ${MAX_CONFIG_ENTRIES}-entry limit for a config file`;
      throw new Fatal({ path: [], problem });
    }
  }

  private omit(offset: number, path: string[], problem: string): typeof OMIT {
    this.problems.push({ offset, path, problem, leftOut: true });
    return OMIT;
  }
}

/**
 * Before parsing, from the lexer's tokens (linear, and cheap): refuse more
 * entries (`:` of a mapping, `-` and `?` of a block, items of a flow list)
 * than the limit, and nesting deeper than the limit, both of flow collections
 * (`[[[[...`) and of blocks (`- - - - ...`, ever deeper indentation), whose
 * depth is that of the stack of columns where their nodes start. The count
 * of a file without aliases is exact; the walk counts again after expanding
 * them, and checks the depth exactly.
 */
function prescan(text: string): TreeProblem | undefined {
  let entries = 0;
  let offset = 0;
  let lineStart = 0;
  const flow: boolean[] = []; // per open flow collection: is it a list?
  const columns: number[] = []; // block nodes open around the current one, by column
  let itemDue = false; // in a flow list, after `[` or `,`
  let scalarText = false; // the lexer marks a plain scalar with \x1f, then gives its text
  for (const token of new Lexer().lex(text)) {
    // \x02 (document), \x18 (flow error end) and \x1f (scalar) are markers, not text
    if (token === '\x02' || token === '\x18' || token === '\x1f') {
      scalarText = token === '\x1f';
      continue;
    }
    const type = scalarText ? 'scalar' : CST.tokenType(token);
    scalarText = false;
    const startsNode = NODE_STARTS.has(type ?? '');
    if (startsNode && flow.length === 0) {
      // a node at column c closes the block nodes at columns >= c and nests in the rest
      const col = offset - lineStart;
      while (columns.length > 0 && columns[columns.length - 1] >= col) columns.pop();
      columns.push(col);
      // + 1: the innermost node is a value, not a collection
      if (columns.length > MAX_CONFIG_DEPTH + 1) return { offset, path: [], problem: DEPTH_PROBLEM };
    }
    if (itemDue && startsNode) entries++;
    if (type !== 'space' && type !== 'newline' && type !== 'comment') itemDue = false;
    switch (type) {
      case 'map-value-ind':
      case 'seq-item-ind':
      case 'explicit-key-ind':
        entries++;
        break;
      case 'flow-seq-start':
      case 'flow-map-start':
        flow.push(type === 'flow-seq-start');
        if (flow.length > MAX_CONFIG_DEPTH) return { offset, path: [], problem: DEPTH_PROBLEM };
        itemDue = type === 'flow-seq-start';
        break;
      case 'flow-seq-end':
      case 'flow-map-end':
        flow.pop();
        break;
      case 'comma':
        itemDue = flow.at(-1) === true;
        break;
    }
    offset += token.length;
    const newline = token.lastIndexOf('\n');
    if (newline >= 0) lineStart = offset - token.length + newline + 1;
  }
  return entries > MAX_CONFIG_ENTRIES ? { path: [], problem: entriesProblem(entries) } : undefined;
}

/** Tokens that begin a node (tags and anchors come before one; `:` follows a key). */
const NODE_STARTS = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'block-scalar-header',
  'alias',
  'seq-item-ind',
  'explicit-key-ind',
  'flow-seq-start',
  'flow-map-start',
]);

function plainTag(node: Node): boolean {
  return node.tag === undefined || PLAIN_TAGS.has(node.tag);
}

/** tag:yaml.org,2002:omap -> !!omap, as it is written. */
function shortTag(tag: string | undefined): string {
  return (tag ?? '').replace(/^tag:yaml\.org,2002:/, '!!');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}
