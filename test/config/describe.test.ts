import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configKeys, configTable } from '../../src/config/describe.js';
import { defaultConfig } from '../../src/config/schema.js';
import { cli, ROOT } from '../helpers/cli.js';

/** The value at a dotted path of an object. */
function at(obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

describe('config reference', () => {
  it('lists every leaf of the default config, with that default, and a description for each', () => {
    const keys = configKeys();
    const leaves: string[] = [];
    const walk = (o: unknown, path: string[]): void => {
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
        for (const [k, v] of Object.entries(o)) walk(v, [...path, k]);
      } else leaves.push(path.join('.'));
    };
    walk(defaultConfig(), []);
    expect(keys.map((k) => k.key)).toEqual(leaves);
    for (const k of keys) {
      expect(k.default, k.key).toEqual(at(defaultConfig(), k.key));
      expect(k.description.length, `${k.key} has a description`).toBeGreaterThan(10);
    }
  });

  it('mlp-train --help-config prints it', () => {
    const r = cli('mlp-train', ['--help-config']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(configTable());
  });

  it('the README embeds the current table (keep the README true)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(configTable());
  });
});
