// When a reproduction may update the published table (results/, embedded in
// the README): only a run of the rows as the table defines them, i.e. each
// row's config unchanged over seeds 1..TABLE_SEEDS. A quick check (fewer
// seeds, --set data.limit=5000, fewer epochs) goes to its own folder only.
import { TABLE_SEEDS } from './spec.js';

/** The published table's folder, relative to the working directory. */
export const PUBLISHED_DIR = 'results';

/** Why a run with these --set assignments and seeds may not be published, or null when it may. */
export function publishRefusal(sets: readonly string[], seeds: number): string | null {
  const found = sets.map((s) => `--set ${s}`);
  if (seeds < TABLE_SEEDS) found.push(`--seeds ${seeds}`);
  if (found.length === 0) return null;
  return `--publish refused: a published row runs its config unchanged over seeds 1..${TABLE_SEEDS}, and this run has ${found.join(', ')}`;
}
