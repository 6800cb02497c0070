// The config's differences from the defaults, for the start-up summary.
import { isDeepStrictEqual } from 'node:util';
import { isMapping } from './mapping.js';
import { defaultConfig, type Config } from './schema.js';

/** Keys whose value differs from the default, as dotted paths with values, for the start-up summary: [{key:'training.lr', value:0.1, default:0.5}, ...]. Arrays compare by value. */
export function configDiff(
  config: Config,
  defaults: Config = defaultConfig(),
): Array<{ key: string; value: unknown; default: unknown }> {
  const diff: Array<{ key: string; value: unknown; default: unknown }> = [];
  const walk = (value: unknown, def: unknown, path: string[]): void => {
    if (isMapping(value) && isMapping(def)) {
      for (const key of Object.keys(value)) walk(value[key], def[key], [...path, key]);
    } else if (!isDeepStrictEqual(value, def)) {
      diff.push({ key: path.join('.'), value, default: def });
    }
  };
  walk(config, defaults, []);
  return diff;
}
