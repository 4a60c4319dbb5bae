// Runs the pure analyzer on Python, TypeScript and JavaScript documents and caches the result
// per document version, so diagnostics, quick fixes and code lenses share one parse. The
// analyzer keeps each document's last tree, so re-analysis after an edit parses incrementally.
import * as vscode from 'vscode';
import { type Analysis, type Analyzer, createAnalyzer, isSourceLanguage } from '../../analysis/analyzer';
import type { AnalysisResult, Range, TextEdit } from '../../analysis/textTypes';
import { Config } from '../config';

export const modelCodeSelector: vscode.DocumentSelector = [{ language: 'python' }, { language: 'typescript' }, { language: 'javascript' }];

export class DocumentAnalysis {
  private analyzer: Promise<Analyzer> | undefined;
  private readonly cache = new Map<string, { version: number; threshold: number; analysis: Analysis }>();
  private readonly config = new Config();

  isSupported(doc: vscode.TextDocument): boolean {
    return isSourceLanguage(doc.languageId);
  }

  async analyze(doc: vscode.TextDocument): Promise<AnalysisResult | undefined> {
    return (await this.analysis(doc))?.result;
  }

  /** The result and the model graph it came from. */
  async analysis(doc: vscode.TextDocument): Promise<Analysis | undefined> {
    const language = doc.languageId;
    if (!isSourceLanguage(language)) return undefined;
    const key = doc.uri.toString();
    const threshold = this.config.largeDenseHeadThreshold;
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version && hit.threshold === threshold) return hit.analysis;
    // The grammar wasm loads once, on first use, not at activation.
    this.analyzer ??= createAnalyzer();
    const analyzer = await this.analyzer;
    const analysis = analyzer.analyze(doc.getText(), language, { largeDenseHeadThreshold: threshold }, key);
    this.cache.set(key, { version: doc.version, threshold, analysis });
    return analysis;
  }

  forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    this.cache.delete(key);
    void this.analyzer?.then((a) => a.forget(key));
  }
}

export function toVsRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function toWorkspaceEdit(uri: vscode.Uri, edits: TextEdit[]): vscode.WorkspaceEdit {
  const we = new vscode.WorkspaceEdit();
  for (const e of edits) we.replace(uri, toVsRange(e.range), e.newText);
  return we;
}
