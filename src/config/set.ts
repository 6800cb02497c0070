// --set overrides: "a.b.c=value" written into a plain config object, the
// value read as YAML.
import { ConfigError } from '../errors.js';
import { formatValue, isMapping, ownValue, setOwn, type Mapping } from './mapping.js';
import { parseYaml } from './parse.js';

/** Apply one "a.b.c=value" override onto a plain object (mutates/returns it); value read as YAML (numbers, booleans, null, flow lists like [784,100,10], plain strings). Errors -> ConfigError('--set', path, ...). */
export function applySet(raw: Record<string, unknown>, assignment: string): Record<string, unknown> {
  const { path, valueText } = parseAssignment(assignment);
  const keyPath = path.join('.');
  const parsed = parseYaml(valueText, false);
  if ('reason' in parsed) {
    throw new ConfigError('--set', keyPath, `cannot read value ${JSON.stringify(valueText)}: ${parsed.reason}`);
  }
  let node = raw;
  for (let i = 0; i < path.length - 1; i++) {
    const next = ownValue(node, path[i]);
    if (next === undefined || next === null) {
      // Missing (or an empty `section:` in the file): start the section.
      const section: Mapping = {};
      setOwn(node, path[i], section);
      node = section;
    } else if (isMapping(next)) {
      node = next;
    } else {
      const prefix = path.slice(0, i + 1).join('.');
      throw new ConfigError('--set', keyPath, `${prefix} is ${formatValue(next)}, not a mapping`);
    }
  }
  setOwn(node, path[path.length - 1], parsed.value);
  return raw;
}

/** "a.b.c=value" -> path and value text. */
export function parseAssignment(assignment: string): { path: string[]; valueText: string } {
  const eq = assignment.indexOf('=');
  const path = assignment.slice(0, Math.max(eq, 0)).trim().split('.');
  if (eq < 0 || path.some((key) => key === '')) {
    throw new ConfigError('--set', assignment, 'expected key.path=value');
  }
  return { path, valueText: assignment.slice(eq + 1) };
}
