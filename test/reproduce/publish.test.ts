import { describe, expect, it } from 'vitest';
import { publishRefusal } from '../../src/reproduce/publish.js';

describe('publishRefusal: only the rows as the table defines them are published', () => {
  it.each([
    [[], 5, null],
    [[], 8, null],
    [[], 1, '--publish refused: a published row runs its config unchanged over seeds 1..5, and this run has --seeds 1'],
    [['data.limit=5000'], 5, '--publish refused: a published row runs its config unchanged over seeds 1..5, and this run has --set data.limit=5000'],
    [
      ['training.epochs=2', 'data.limit=5000'],
      1,
      '--publish refused: a published row runs its config unchanged over seeds 1..5, and this run has --set training.epochs=2, --set data.limit=5000, --seeds 1',
    ],
  ])('--set %j --seeds %i', (sets, seeds, refusal) => {
    expect(publishRefusal(sets, seeds)).toBe(refusal);
  });
});
