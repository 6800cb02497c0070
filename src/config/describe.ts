// The config reference, generated from the schema itself: one row per leaf key
// with its default, its allowed values and its description. `mlp-train
// --help-config` prints it, and the README embeds it (a test keeps them equal).
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export interface KeyDoc {
  key: string; // dotted path
  default: unknown;
  values: string; // type and range, e.g. "integer >= 0", "sigmoid | tanh | relu"
  description: string;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function valuesOf(s: JsonSchema): string {
  if (s.const !== undefined) return String(s.const);
  if (s.enum) return s.enum.map((v) => String(v)).join(' \\| ');
  if (s.anyOf) return s.anyOf.map(valuesOf).join(' \\| ');
  if (s.type === 'array') return `list of ${valuesOf(s.items ?? {})}`;
  if (s.type === 'integer' || s.type === 'number') {
    const name = s.type === 'integer' ? 'integer' : 'number';
    const lo = s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : s.minimum !== undefined ? `>= ${s.minimum}` : '';
    const hi =
      s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : s.maximum !== undefined && s.maximum < MAX_SAFE ? `<= ${s.maximum}` : '';
    return [name, lo, hi].filter(Boolean).join(' ').replace(/ (>=?) (.*) (<=?) /, ' $1 $2, $3 ');
  }
  if (s.type === 'string') return 'path';
  if (Array.isArray(s.type)) return s.type.join(' \\| '); // a nullable plain type: ["boolean", "null"]
  return String(s.type ?? 'any');
}

/** Every leaf key of the config, depth first in schema order. */
export function configKeys(): KeyDoc[] {
  const root = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: KeyDoc[] = [];
  const walk = (s: JsonSchema, path: string[]): void => {
    if (s.type === 'object' && s.properties) {
      for (const [name, child] of Object.entries(s.properties)) walk(child, [...path, name]);
      return;
    }
    out.push({ key: path.join('.'), default: s.default, values: valuesOf(s), description: s.description ?? '' });
  };
  walk(root, []);
  return out;
}

/** The reference as a Markdown table. */
export function configTable(): string {
  const rows = configKeys().map((k) => `| \`${k.key}\` | \`${JSON.stringify(k.default)}\` | ${k.values} | ${k.description.replaceAll('|', '\\|')} |`);
  return ['| key | default | values | what |', '|---|---|---|---|', ...rows].join('\n');
}
