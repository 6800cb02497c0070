// Reading a config file: through the shared bounded reader (a size limit that
// holds for pipes and devices too), text only, one line naming the file, the
// limit and what was found.
import { existsSync, truncateSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { MAX_CONFIG_BYTES } from '../../src/config/tree.js';
import { ConfigError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';

const { write } = useTempFiles('mlp-parse-');

const messageOf = (file: string): string => errorOf(ConfigError, () => loadConfig(file)).message;

describe('what a config file may be', () => {
  it.each<[string, () => string, (file: string) => string]>([
    [
      'one byte over the limit (a sparse file: refused from its size)',
      () => {
        const file = write('huge.yaml', '');
        truncateSync(file, MAX_CONFIG_BYTES + 1);
        return file;
      },
      (file) => `${file}: ${MAX_CONFIG_BYTES + 1} bytes is more than the ${MAX_CONFIG_BYTES}-byte limit for a config file`,
    ],
    [
      'over the limit in comments',
      () => write('comments.yaml', `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`),
      (file) => `${file}: ${MAX_CONFIG_BYTES + 3} bytes is more than the ${MAX_CONFIG_BYTES}-byte limit for a config file`,
    ],
    ['a NUL byte', () => write('nul.yaml', 'training:\n  lr: 1\0\n'), (file) => `${file}: not text (a NUL byte at offset 17), expected a YAML or JSON config`],
    ['not UTF-8', () => write('latin1.yaml', Buffer.from('output:\n  dir: caf\xe9\n', 'latin1')), (file) => `${file}: not UTF-8 text, expected a YAML or JSON config`],
    ['binary .json', () => write('w.json', new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00])), (file) => `${file}: not text (a NUL byte at offset 7), expected a YAML or JSON config`],
  ])('%s', (_, makeFile, expected) => {
    const file = makeFile();
    expect(messageOf(file)).toBe(expected(file));
  });

  // issue 17 C: `--config /dev/zero` grew without bound; now its first chunk refuses it
  it.runIf(existsSync('/dev/zero'))('/dev/zero', () => {
    expect(messageOf('/dev/zero')).toBe('/dev/zero: not text (a NUL byte at offset 0), expected a YAML or JSON config');
  });

  it.runIf(existsSync('/dev/null'))('/dev/null is an empty config', () => {
    expect(loadConfig('/dev/null')).toEqual(loadConfig(undefined));
  });

  it('exactly at the limit is read', () => {
    const file = write('max.yaml', `# ${'x'.repeat(MAX_CONFIG_BYTES - 3)}\n`);
    expect(loadConfig(file)).toEqual(loadConfig(undefined));
  });
});
