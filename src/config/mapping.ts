// Plain parsed config objects: own-key access that a key named __proto__
// cannot subvert, and found values shown short, the way the user wrote them.

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function ownValue(node: Mapping, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Assign without the `__proto__` setter: a key named __proto__ stays a (rejected) key. */
export function setOwn(node: Mapping, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
}

export function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isMapping(node)) node = ownValue(node, key);
    else return undefined;
  }
  return node;
}

/** A found value as the user would recognise it, short: "big", -1, NaN, [784,0,10], a mapping. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return clip(JSON.stringify(value));
  if (Array.isArray(value)) return clip(`[${value.map(formatValue).join(',')}]`);
  if (isMapping(value)) return 'a mapping';
  return String(value);
}

function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
