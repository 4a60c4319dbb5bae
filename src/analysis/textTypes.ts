// Editor-neutral text types. They mirror VS Code's (0-based lines, characters in UTF-16 code
// units) so the extension host can convert them 1:1 while the analysis core stays free of
// the 'vscode' module and runs in unit tests, the CLI and workers.
import type { SuppressedFinding, UnusedSuppression } from './suppressions';

export interface Position {
  /** 0-based line. */
  line: number;
  /** 0-based column in UTF-16 code units, as in VS Code. */
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Finding {
  ruleId: string;
  message: string;
  range: Range;
  severity: Severity;
  docsUrl?: string;
  fixes: Fix[];
  /** Places in other files the finding rests on (VS Code: DiagnosticRelatedInformation). */
  related?: RelatedPlace[];
}

/** A place in another file: `file` is the key the workspace index knows it by (a URI in the extension, a path in the CLI). */
export interface RelatedPlace {
  file: string;
  range: Range;
  message: string;
}

export interface ModelLens {
  range: Range;
  kind: 'insertDropout';
  title: string;
  edits: TextEdit[];
}

/** A detected model, for the "Add Regularizer…" code lens. */
export interface ModelTarget {
  /** First line of the model (class header or constructor call). */
  range: Range;
  /** Offset of the model's start: identifies it when a snippet is planned. */
  start: number;
  framework: 'pytorch' | 'keras' | 'tfjs';
  style: 'sequential' | 'add' | 'module' | 'functional';
  name?: string;
  /** Snippet ids that fit this model and place. */
  snippetIds: string[];
}

export interface AnalysisResult {
  findings: Finding[];
  lenses: ModelLens[];
  models: ModelTarget[];
  /** ERROR and MISSING nodes in the parse tree; at least 1 when analysis itself failed. */
  parseErrors: number;
  /** Findings silenced by a `reglens: ignore[...]` comment (absent when none). */
  suppressed?: SuppressedFinding[];
  /** Suppressions, or ids listed in them, that silenced nothing (absent when none). */
  unusedSuppressions?: UnusedSuppression[];
}
