// Running many points on this machine: at most `jobs` mlp-train children at
// once, each with its share of the cores, and the signals of a terminal passed
// on to them (they stop after their batch and write their checkpoints).
import type { ChildGroup } from './children.js';

/**
 * SIGINT, SIGTERM or SIGHUP while runs go on: no new run starts, and the signal is passed on to
 * every running mlp-train (which stops after its batch, writes its checkpoint and exits 130); the
 * pool then waits for them. A second signal is passed on too: mlp-train then quits at once.
 * mlp-train does not handle SIGHUP, so a hang-up is passed on as SIGTERM. Returns the remover.
 */
export function passOnSignals(group: ChildGroup, say: (line: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const first = group.stopping === null;
    const running = group.running;
    group.stop(signal === 'SIGHUP' ? 'SIGTERM' : signal); // before any write: stderr may be gone with the terminal
    say(
      first
        ? `\n${signal}: stopping ${running} run${running === 1 ? '' : 's'} after their current batch; no new run starts (press Ctrl-C again to stop them at once)\n`
        : `\n${signal}: stopping ${running} run${running === 1 ? '' : 's'} at once\n`,
    );
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}

/**
 * Run fn on every item, at most `jobs` at once. No item starts once `stopped()` is true or an item
 * has failed; the first failure calls `onFailure` (to stop the running ones) and, once every
 * running item has settled, rejects.
 */
export async function runPool<T>(
  items: readonly T[],
  jobs: number,
  fn: (item: T) => Promise<void>,
  stopped: () => boolean,
  onFailure: () => void,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === null && !stopped()) {
      try {
        await fn(items[next++]);
      } catch (error) {
        if (failure === null) {
          failure = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
