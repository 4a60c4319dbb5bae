// Runs the pure analyzer on Python documents and caches the result per document
// version, so diagnostics, quick fixes and code lenses share one parse.
import * as vscode from 'vscode';
import { createPythonAnalyzer, type PythonAnalyzer } from '../../analysis/python/parser';
import type { AnalysisResult, Range, TextEdit } from '../../analysis/textTypes';

export const pythonSelector: vscode.DocumentSelector = [{ language: 'python' }];

export class DocumentAnalysis {
  private analyzer: Promise<PythonAnalyzer> | undefined;
  private readonly cache = new Map<string, { version: number; result: AnalysisResult }>();

  isSupported(doc: vscode.TextDocument): boolean {
    return doc.languageId === 'python';
  }

  async analyze(doc: vscode.TextDocument): Promise<AnalysisResult | undefined> {
    if (!this.isSupported(doc)) return undefined;
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.result;
    // The grammar wasm loads once, on first use, not at activation.
    this.analyzer ??= createPythonAnalyzer();
    const analyzer = await this.analyzer;
    const result = analyzer.analyze(doc.getText());
    this.cache.set(key, { version: doc.version, result });
    return result;
  }

  forget(doc: vscode.TextDocument): void {
    this.cache.delete(doc.uri.toString());
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
