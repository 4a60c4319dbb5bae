// Runs the pure analyzer on Python, TypeScript and JavaScript documents and caches the result
// per document version, so diagnostics, quick fixes and code lenses share one parse. The
// analyzer keeps each document's last tree and per-statement facts, and gets the edits since
// the last analysis from the change events, so re-analysis after an edit parses incrementally
// and re-reads only the statements that changed.
import * as vscode from 'vscode';
import { type Analysis, type Analyzer, createAnalyzer, isSourceLanguage, type TextChange } from '../../analysis/analyzer';
import type { AnalysisResult, Range, TextEdit } from '../../analysis/textTypes';
import { summarizeGraph } from '../../analysis/workspace/fileSummary';
import { WorkspaceIndex } from '../../analysis/workspace/workspaceIndex';
import { Config } from '../config';

/** Files whose summary in the workspace index changed, and files to re-check besides their dependents (those of a deleted file). */
export interface IndexChange {
  changed: string[];
  alsoRecheck?: string[];
}

export const modelCodeSelector: vscode.DocumentSelector = [{ language: 'python' }, { language: 'typescript' }, { language: 'javascript' }];

/** Pending edits kept per document at most; beyond that the analyzer diffs the texts instead. */
const MAX_PENDING_CHANGES = 2000;
/** Pause in an open document's analyses after which its summary goes to the workspace index. */
const SUMMARY_DELAY_MS = 400;
/** Work between two returns to the event loop during an analysis. */
const SLICE_MS = 8;

interface Running {
  version: number;
  threshold: number;
  promise: Promise<Analysis | undefined>;
}

export class DocumentAnalysis {
  private analyzer: Promise<Analyzer> | undefined;
  private readonly cache = new Map<string, { version: number; threshold: number; analysis: Analysis }>();
  /** Content changes since the text of the last analysis started for the document, in order. */
  private readonly pending = new Map<string, TextChange[]>();
  private readonly running = new Map<string, Running>();
  private readonly config = new Config();
  /**
   * What the other files of the workspace offer (workspaceIndexer.ts fills it from disk, each
   * analysis of an open document from its current text); keys are document URIs.
   */
  readonly index = new WorkspaceIndex(undefined, (key) => vscode.Uri.parse(key).path);
  private readonly indexChanged = new vscode.EventEmitter<IndexChange>();
  private readonly summaryTimers = new Map<string, NodeJS.Timeout>();
  /** Fires when summaries in the index changed: the files resting on them need a new analysis. */
  readonly onDidChangeIndex = this.indexChanged.event;

  /** The analyzer, loaded on first use (the grammar wasm loads once, not at activation). */
  analyzerReady(): Promise<Analyzer> {
    this.analyzer ??= createAnalyzer();
    return this.analyzer;
  }

  /** Tells the listeners that summaries changed (the indexer calls it after reading files from disk). */
  announceIndexChange(change: IndexChange): void {
    if (change.changed.length || change.alsoRecheck?.length) this.indexChanged.fire(change);
  }

  /** Drops the cached result of a document, so the next request analyses it again (a file it rests on changed). */
  invalidate(doc: vscode.TextDocument): void {
    this.cache.delete(doc.uri.toString());
  }

  isSupported(doc: vscode.TextDocument): boolean {
    return isSourceLanguage(doc.languageId);
  }

  /** Records an edit so the next analysis re-parses only what it touched (called for every change event). */
  recordChanges(e: vscode.TextDocumentChangeEvent): void {
    if (!this.isSupported(e.document) || e.contentChanges.length === 0) return;
    const key = e.document.uri.toString();
    const list = this.pending.get(key) ?? [];
    // VS Code reports one event's changes so that applying them in order is right.
    for (const c of e.contentChanges) list.push({ offset: c.rangeOffset, length: c.rangeLength, text: c.text });
    if (list.length > MAX_PENDING_CHANGES) this.pending.delete(key);
    else this.pending.set(key, list);
  }

  async analyze(doc: vscode.TextDocument): Promise<AnalysisResult | undefined> {
    return (await this.analysis(doc))?.result;
  }

  /**
   * The result and the model graph it came from, for the document's current version. Callers
   * asking for the same version share one analysis; an analysis whose document changed before it
   * finished stops at its next slice and resolves to undefined (the newer edit supersedes it).
   * Between slices of about 8 ms the extension host handles other work.
   */
  async analysis(doc: vscode.TextDocument): Promise<Analysis | undefined> {
    const language = doc.languageId;
    if (!isSourceLanguage(language)) return undefined;
    const key = doc.uri.toString();
    const version = doc.version;
    const threshold = this.config.largeDenseHeadThreshold;
    const hit = this.cache.get(key);
    if (hit && hit.version === version && hit.threshold === threshold) return hit.analysis;
    const current = this.running.get(key);
    if (current && current.version === version && current.threshold === threshold) return current.promise;

    const before = current?.promise;
    const promise = (async () => {
      // One analysis per document at a time: the analyzer keeps one tree per document.
      await before?.catch(() => undefined);
      const stale = () => doc.isClosed || doc.version !== version;
      if (stale()) return undefined;
      const analyzer = await this.analyzerReady();
      if (stale()) return undefined;
      const changes = this.pending.get(key);
      this.pending.delete(key);
      const analysis = await analyzer.analyzeAsync(
        doc.getText(),
        language,
        { options: { largeDenseHeadThreshold: threshold }, key, changes, workspace: this.config.workspaceIndexEnabled ? { source: this.index, file: key } : undefined },
        stale,
        SLICE_MS,
      );
      if (analysis) this.cache.set(key, { version, threshold, analysis });
      if (analysis?.graph && language === 'python' && this.config.workspaceIndexEnabled) this.scheduleSummary(key, analysis);
      return analysis;
    })();
    const entry: Running = { version, threshold, promise };
    this.running.set(key, entry);
    void promise.finally(() => {
      if (this.running.get(key) === entry) this.running.delete(key);
    });
    return promise;
  }

  /**
   * The open document's text is what other files see of it, saved or not. Its summary is
   * taken once typing pauses, off the keystroke path (a few ms on a 5,000-line file), and only
   * from the latest analysis: a newer one shifts the facts an older graph shares.
   */
  private scheduleSummary(key: string, analysis: Analysis): void {
    clearTimeout(this.summaryTimers.get(key));
    this.summaryTimers.set(
      key,
      setTimeout(() => {
        this.summaryTimers.delete(key);
        if (this.cache.get(key)?.analysis !== analysis || this.running.has(key) || !analysis.graph) return;
        if (this.index.setSummary(key, summarizeGraph(analysis.graph))) this.announceIndexChange({ changed: [key] });
      }, SUMMARY_DELAY_MS),
    );
  }

  dispose(): void {
    for (const t of this.summaryTimers.values()) clearTimeout(t);
    this.summaryTimers.clear();
    this.indexChanged.dispose();
  }

  forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    this.cache.delete(key);
    this.pending.delete(key);
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
