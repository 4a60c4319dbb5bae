// Analysis of a set of files at once, for `reglens lint`: the whole list is handed over up
// front so that an analysis that follows imports between the files (a workspace index) can
// replace the per-file loop here without the CLI changing. Pure: the caller reads the files.
import type { Analyzer } from './analyzer';
import type { RuleOptions } from './rules/ruleKit';
import type { AnalysisResult } from './textTypes';
import type { SourceLanguage } from './treeSitterRuntime';

export interface SourceFile {
  /** Identifies the file (the CLI: its absolute path). */
  path: string;
  text: string;
  language: SourceLanguage;
  /** Rule options from the config that applies to this file. */
  options?: Partial<RuleOptions>;
}

/** One result per file, in the order given. Never throws for a file's content (the analyzer does not). */
export function analyzeFiles(analyzer: Analyzer, files: readonly SourceFile[]): AnalysisResult[] {
  return files.map((f) => analyzer.analyze(f.text, f.language, f.options).result);
}
