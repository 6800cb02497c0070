// File paths in a config (the keys the schema marks `.meta({ format: 'path' })`):
// relative ones in a config file mean the file's folder, those of --set the
// working directory. Both become absolute here, so that the resolved config,
// saved with the run, means the same files from anywhere, and an error about
// a data file names the file that was opened.
import { isAbsolute, resolve } from 'node:path';
import { configJsonSchema, type JsonSchema } from './json-schema.js';
import { isMapping, ownValue, setOwn } from './mapping.js';

let keys: string[][] | undefined;

/** The dotted paths of the schema's path keys: data.train.images, ... */
export function pathKeys(): string[][] {
  if (keys === undefined) {
    keys = [];
    const walk = (schema: JsonSchema, at: string[]): void => {
      if (schema.format === 'path') keys?.push(at);
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        if (typeof child === 'object') walk(child, [...at, name]);
      }
    };
    walk(configJsonSchema(), []);
  }
  return keys;
}

/**
 * `value`, written at config path `at`, with its relative path strings made
 * absolute against `dir` (mappings are changed in place; the value itself is
 * replaced when it is the path). Anything but a non-empty string is left for
 * the schema to refuse.
 */
export function resolvePaths(value: unknown, at: readonly string[], dir: string): unknown {
  let out = value;
  for (const key of pathKeys()) {
    if (key.length < at.length || !at.every((k, i) => k === key[i])) continue;
    const rest = key.slice(at.length);
    if (rest.length === 0) {
      out = resolveOne(out, dir);
      continue;
    }
    let node = out;
    for (const k of rest.slice(0, -1)) node = isMapping(node) ? ownValue(node, k) : undefined;
    const last = rest[rest.length - 1];
    if (isMapping(node) && typeof ownValue(node, last) === 'string') setOwn(node, last, resolveOne(ownValue(node, last), dir));
  }
  return out;
}

function resolveOne(value: unknown, dir: string): unknown {
  return typeof value === 'string' && value !== '' && !isAbsolute(value) ? resolve(dir, value) : value;
}
