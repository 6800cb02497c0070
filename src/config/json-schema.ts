// What a config key expects, read from the schema itself (converted once to
// JSON Schema, a plain walkable tree), so there is no per-key message table
// and the messages follow the schema when a knob is added.
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

export type JsonSchema = z.core.JSONSchema.JSONSchema;

let jsonSchema: JsonSchema | undefined;

/** ConfigSchema as JSON Schema: properties per section, items of lists, bounds, enums. */
export function configJsonSchema(): JsonSchema {
  jsonSchema ??= z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
  return jsonSchema;
}

export function schemaAt(path: readonly string[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = configJsonSchema();
  for (const key of path) node = node === undefined ? undefined : schemaChild(node, key);
  return node;
}

/** A mapping's property, or a list's item schema (key is then an index). */
export function schemaChild(schema: JsonSchema, key: string): JsonSchema | undefined {
  const { items, properties } = schema;
  const child = schema.type === 'array' ? items : properties && Object.hasOwn(properties, key) ? properties[key] : undefined;
  return typeof child === 'object' && !Array.isArray(child) ? child : undefined;
}

/** Human words for what a schema accepts: "a positive integer or 'full'", "one of sigmoid, tanh, relu". */
export function describeSchema(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(describeSchema).join(' or ');
  if (schema.const !== undefined) return quote(schema.const);
  if (schema.enum) return schema.enum.length === 1 ? quote(schema.enum[0]) : `one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    case 'string':
      return schema.minLength ? 'a non-empty string' : 'a string';
    case 'integer':
    case 'number':
      return withArticle(numberKind(schema, false));
    case 'array': {
      const item = schemaChild(schema, '0');
      const atLeast = schema.minItems ? `at least ${schema.minItems} ` : '';
      const items =
        item?.type === 'integer' || item?.type === 'number'
          ? numberKind(item, true)
          : item === undefined
            ? 'items'
            : `items, each ${describeSchema(item)}`;
      return `a list of ${atLeast}${items}`;
    }
    case 'object':
      return 'a mapping';
    default:
      return 'a valid value';
  }
}

/** "positive integer", "non-negative number < 1", "number >= 2" (plural: "positive integers"). */
function numberKind(schema: JsonSchema, plural: boolean): string {
  const noun = (schema.type === 'integer' ? 'integer' : 'number') + (plural ? 's' : '');
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema;
  const sign = exclusiveMinimum === 0 ? 'positive ' : minimum === 0 ? 'non-negative ' : '';
  const bounds: string[] = [];
  if (sign === '' && typeof exclusiveMinimum === 'number') bounds.push(`> ${exclusiveMinimum}`);
  // z.int() states the safe-integer range; that is no news to a user.
  if (sign === '' && minimum !== undefined && minimum > Number.MIN_SAFE_INTEGER) bounds.push(`>= ${minimum}`);
  if (typeof exclusiveMaximum === 'number') bounds.push(`< ${exclusiveMaximum}`);
  if (maximum !== undefined && maximum < Number.MAX_SAFE_INTEGER) bounds.push(`<= ${maximum}`);
  return `${sign}${noun}${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}`;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function withArticle(phrase: string): string {
  return /^[aeiou]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}
