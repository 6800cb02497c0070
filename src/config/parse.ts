// Config text -> plain value: JSON or YAML, a problem as a one-line reason
// with its line and column when the parser knows them.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';

/** The parsed content of a config file (by extension .json/.yaml/.yml; anything else: try YAML), not yet checked to be a mapping. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read config: ${fsReason(err)}`);
  }
  // JSON is YAML 1.2; the yaml package's strict 'json' schema rejects bare
  // words like `relu` and gives every syntax error a line and column, which
  // JSON.parse does not do consistently across Node versions.
  const json = extname(file).toLowerCase() === '.json';
  const parsed = parseYaml(text, json);
  if ('reason' in parsed) {
    const where = parsed.line === undefined ? '' : ` at line ${parsed.line}, column ${parsed.col}`;
    throw new ConfigError(file, '', `${json ? 'JSON' : 'YAML'} syntax error${where}: ${parsed.reason}`);
  }
  return parsed.value;
}

/** Parse one YAML (or JSON) document; a problem comes back as a one-line reason and, when known, its position. */
export function parseYaml(text: string, json: boolean): { value: unknown } | { reason: string; line?: number; col?: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, schema: json ? 'json' : 'core' });
  const first = doc.errors[0];
  if (first !== undefined) return { reason: firstLine(first.message), ...lineCounter.linePos(first.pos[0]) };
  try {
    return { value: doc.toJS() };
  } catch (err) {
    // Only alias problems surface here (`*x` before `&x`, alias bombs), without a position.
    if (!(err instanceof Error)) throw err;
    return { reason: firstLine(err.message) };
  }
}

function fsReason(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return typeof code === 'string' ? code : err instanceof Error ? firstLine(err.message) : String(err);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}
