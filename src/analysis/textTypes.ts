// Editor-neutral text types. They mirror VS Code's (0-based lines, characters in UTF-16 code
// units) so the extension host can convert them 1:1 while the analysis core stays free of
// the 'vscode' module and runs in unit tests, the CLI and workers.

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
}

export interface ModelLens {
  range: Range;
  kind: 'insertDropout';
  title: string;
  edits: TextEdit[];
}

export interface AnalysisResult {
  findings: Finding[];
  lenses: ModelLens[];
  /** ERROR and MISSING nodes in the parse tree; at least 1 when analysis itself failed. */
  parseErrors: number;
}
