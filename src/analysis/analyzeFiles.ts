// Analysis of a set of files at once, for `reglens lint`: the whole list is handed over up
// front, the Python files are summarised into a workspace index first, and then each file is
// analysed with the index behind it (from the same parse), so findings that rest on another file of the set (a
// BatchNorm in a backbone module, an MC loop called after eval() elsewhere) are found as in the
// editor. Pure: the caller reads the files.
import type { Analyzer } from './analyzer';
import type { RuleOptions } from './rules/ruleKit';
import type { AnalysisResult } from './textTypes';
import type { SourceLanguage } from './treeSitterRuntime';
import { summarizeGraph } from './workspace/fileSummary';
import { WorkspaceIndex } from './workspace/workspaceIndex';

export interface SourceFile {
  /** Identifies the file: its absolute path (the index resolves imports from it). */
  path: string;
  text: string;
  language: SourceLanguage;
  /** Rule options from the config that applies to this file. */
  options?: Partial<RuleOptions>;
}

export interface AnalyzeFilesOptions {
  /** Files the index reads but that are not analysed themselves (default none). */
  context?: readonly SourceFile[];
}

/**
 * One result per file, in the order given. Never throws for a file's content (the analyzer does
 * not). Each file is parsed once: its graph goes into the index, and once every file is indexed
 * its facts are finished with the index behind it.
 */
export function analyzeFiles(analyzer: Analyzer, files: readonly SourceFile[], options: AnalyzeFilesOptions = {}): AnalysisResult[] {
  const index = new WorkspaceIndex((text, language) => analyzer.graph(text, language));
  for (const f of options.context ?? []) if (f.language === 'python') index.update(f.path, f.text);
  const prepared = files.map((f) => {
    const p = analyzer.prepare(f.text, f.language);
    if (f.language === 'python') {
      if (p.graph) index.setSummary(f.path, summarizeGraph(p.graph));
      else index.remove(f.path);
    }
    return p;
  });
  return files.map((f, i) => analyzer.finish(prepared[i], f.options, f.language === 'python' ? { source: index, file: f.path } : undefined).result);
}
