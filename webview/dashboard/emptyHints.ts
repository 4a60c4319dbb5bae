// What each dashboard section needs, said where the data is missing. Field names follow
// ProbesSchema / RegularizersSchema in src/protocol/experiment.ts: keep them in step.
export const emptyHints = {
  accuracy: 'No epochs recorded yet. Every run reports accuracy per epoch; start one with "RegLens: Run Experiment".',
  neurons:
    'No neuron scores in this run. They come from the memorization probe: add "probes": { "memorization": {} } to the experiment file (Fourier IPR for a modular dataset, ablation otherwise).',
  pruning: 'No pruning curves in this run. They come from "probes.pruning" in the experiment file ("save": true also saves the pruned model).',
  uncertainty: 'No MC-dropout results in this run. They come from "probes.mcDropout" in the experiment file, and need a model with a dropout layer.',
  nested: 'No nested-dropout ordering in this run. It comes from a "nestedDropout" layer in model.layers plus "probes.nestedOrdering".',
  labelErrors:
    'No label-error ranking in this run. It comes from "probes.labelErrors" in the experiment file (with dataset.labelNoise it is also measured against the corrupted labels).',
  coteaching: 'No label precision in this run. It is reported per epoch when co-teaching is on ("training.regularizers.coTeaching" in the experiment file).',
} as const;
