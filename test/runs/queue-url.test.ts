// --queue URLs: what BullMQ/ioredis get, and one line for anything else.
import { describe, expect, it } from 'vitest';
import { jobId, parseQueueUrl } from '../../src/runs/queue.js';

describe('--queue redis://...', () => {
  it('host, port, database and credentials; defaults 6379 and 0', () => {
    expect(parseQueueUrl('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(parseQueueUrl('redis://queue.lan')).toEqual({ host: 'queue.lan', port: 6379, db: 0 });
    expect(parseQueueUrl('redis://me:p%40ss@h:1')).toEqual({ host: 'h', port: 1, db: 0, username: 'me', password: 'p@ss' });
  });

  it('anything else is one line naming the URL', () => {
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/^--queue localhost:6379: expected a redis:\/\/ URL/);
    expect(() => parseQueueUrl('not a url')).toThrow(/^--queue not a url: not a URL; expected redis:\/\/HOST:PORT$/);
    expect(() => parseQueueUrl('redis://h:1/x')).toThrow(/the path must be a database number/);
  });

  it('one job per run folder: the same folder, the same id; BullMQ ids must not hold ":"', () => {
    expect(jobId('/nfs/sweep/lr-1')).toBe(jobId('/nfs/sweep/lr-1'));
    expect(jobId('/nfs/sweep/lr-1')).not.toBe(jobId('/nfs/sweep/lr-2'));
    expect(jobId('/a:b')).toMatch(/^run-[0-9a-f]{24}$/);
  });
});
