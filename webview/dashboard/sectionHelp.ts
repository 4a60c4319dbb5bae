// The "help" action of each dashboard section: how the numbers are computed, which
// experiment-file field produces them, and where the method is described (the paper, and
// RegLens's own measurements of it). Pure data, checked by a unit test.

export interface SectionHelp {
  /** How RegLens computes what the section shows, in one or two sentences. */
  method: string;
  /** The experiment-file field behind the section ('' where every run has it). */
  field: string;
  /** Where the method is described: the paper first. */
  links: { label: string; href: string }[];
}

const repo = 'https://github.com/reglens/reglens/blob/main';
const doshi = { label: 'Doshi et al., "To grok or not to grok" (2024)', href: 'https://arxiv.org/abs/2310.13061' };
const results = (label: string) => ({ label: `RegLens results: ${label}`, href: `${repo}/docs/results.md` });

export const sectionHelp: Record<string, SectionHelp> = {
  accuracy: {
    method:
      'Accuracy is measured after every epoch on the clean training examples, on the corrupted ones (against their wrong label) and on the test set. The unlearning marker needs corrupted-train accuracy to fall by a stated margin from its peak and stay down.',
    field: '',
    links: [doshi, results('memorization of corrupted labels')],
  },
  neurons: {
    method:
      'Modular arithmetic: the inverse participation ratio (IPR) of the Fourier spectrum of each unit’s input weights, turned into a score on which periodic (rule-learning) units are low. Other datasets: ablation, the corrupted-train accuracy lost when the unit is zeroed minus the clean and test accuracy lost.',
    field: 'probes.memorization',
    links: [doshi, results('IPR convention')],
  },
  pruning: {
    method: 'Units are zeroed in order of their memorization score (and in the reverse order as the control) and the three accuracies are measured after each step, without retraining.',
    field: 'probes.pruning',
    links: [doshi],
  },
  uncertainty: {
    method:
      'The trained model predicts each example many times with dropout kept on. Predictive entropy is the total uncertainty of the averaged prediction; mutual information is its epistemic part. Expected calibration error weighs the gap between confidence and accuracy by bin size.',
    field: 'probes.mcDropout',
    links: [{ label: 'Gal & Ghahramani, "Dropout as a Bayesian Approximation" (ICML 2016)', href: 'https://arxiv.org/abs/1506.02142' }],
  },
  labelErrors: {
    method:
      'Each training example gets a score from each method (area under the margin, forgetting events, small loss, confident learning, MC-dropout disagreement); higher means more likely mislabelled. With injected noise the run knows the truth, so AUROC and precision at k are measured.',
    field: 'probes.labelErrors',
    links: [
      { label: 'Pleiss et al., "Identifying Mislabeled Data using the Area Under the Margin Ranking" (NeurIPS 2020)', href: 'https://arxiv.org/abs/2001.10528' },
      { label: 'Northcutt et al., "Confident Learning" (JAIR 2021)', href: 'https://arxiv.org/abs/1911.00068' },
      results('finding the wrong labels'),
    ],
  },
  nested: {
    method: 'Nested dropout keeps only the first k units of a layer per batch (k drawn at random), so early units learn the most important features. The probe measures test accuracy with the first k units only, for every k.',
    field: 'a nestedDropout layer + probes.nestedOrdering',
    links: [{ label: 'Rippel et al., "Learning Ordered Representations with Nested Dropout" (ICML 2014)', href: 'https://arxiv.org/abs/1402.0915' }, results('nested dropout on MNIST')],
  },
  coteaching: {
    method: 'Two networks train side by side; each picks the samples with the smallest loss in a batch and hands them to the other. Label precision is the share of those picked samples whose label is clean.',
    field: 'training.regularizers.coTeaching',
    links: [{ label: 'Han et al., "Co-teaching" (NeurIPS 2018)', href: 'https://arxiv.org/abs/1804.06872' }],
  },
};
