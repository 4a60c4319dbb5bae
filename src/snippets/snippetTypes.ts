import type { Framework } from '../analysis/modelGraph';

export type SnippetId =
  | 'dropout'
  | 'nested-dropout'
  | 'multi-sample-dropout'
  | 'cutmix'
  | 'co-teaching'
  | 'mc-dropout-predict'
  | 'modality-dropout'
  | 'candidate-dropout'
  | 'decoupled-weight-decay'
  | 'batch-norm';

export interface SnippetImport {
  line: string;
  /** Regex source: when an existing import line matches, the import is already there. */
  present: string;
}

export interface Snippet {
  id: SnippetId;
  framework: Framework;
  title: string;
  detail: string;
  /**
   * layer: one element inserted into a layer list after the last hidden activation (the code
   * is the element's expression without the module prefix, e.g. `Dropout(p=0.1)`);
   * definition: top-level code inserted above the model's statement.
   */
  placement: 'layer' | 'definition';
  /** Python written with 4-space indents, JS with 2-space; the planner re-indents to the file's unit. */
  code: string;
  imports: SnippetImport[];
  /** Where the technique comes from (shown in the quick pick). */
  source: string;
}
