// Catching the one error a call must throw.
import { expect } from 'vitest';

/** The error of class `cls` that fn throws; fails the test if it throws anything else, or nothing. */
export function errorOf<T extends Error>(cls: abstract new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(cls);
    return err as T;
  }
  throw new Error(`expected a ${cls.name}, nothing was thrown`);
}
