// "The same bits for any thread count": run a computation on 1 and on 2
// threads and compare every array it returns byte for byte.
import { expect } from 'vitest';

/** `run(threads)` sets the thread count itself; the runtime is put back to 1 thread afterwards. */
export function expectSameBitsOnThreads(setThreads: (n: number) => void, run: (threads: number) => ArrayBufferView[]): void {
  const one = run(1);
  const two = run(2);
  setThreads(1);
  expect(two).toHaveLength(one.length);
  one.forEach((a, j) => {
    const b = two[j];
    const same = Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    expect(same, `array ${j}`).toBe(true);
  });
}
