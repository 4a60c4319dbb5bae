// Checks of an experiment against the dataset it trains on, shared by both engines' paths
// (train.ts for TF.js, torchBridge.ts for the hand-over to PyTorch): one message per mistake.
import type { Dataset } from './data/dataset';

/** The experiment does not fit its data (shape, names): a user error, reported without a stack. */
export class ExperimentShapeError extends Error {}

/** featureGroupDropout groups, CSV column names resolved to feature indices. */
export function resolveGroups(groups: { name: string; columns: (string | number)[] }[], data: Dataset): Int32Array[] {
  return groups.map((g, gi) =>
    Int32Array.from(g.columns, (c) => {
      const j = typeof c === 'number' ? c : (data.featureNames?.indexOf(c) ?? -1);
      if (j < 0 || j >= data.inputSize) {
        throw new ExperimentShapeError(
          `training.regularizers.featureGroupDropout.groups.${gi}.columns: "${c}" is not a feature ${typeof c === 'number' ? `index (0..${data.inputSize - 1})` : `column (${data.featureNames?.join(', ') ?? 'this dataset has no column names'})`}`,
        );
      }
      return j;
    }),
  );
}
