// Publishes analyzer findings as diagnostics (debounced on typing), and offers each
// finding's fixes as quick fixes.
import * as vscode from 'vscode';
import { isSourceLanguage } from '../../analysis/analyzer';
import { suppressionEdit } from '../../analysis/suppressions';
import type { Finding } from '../../analysis/textTypes';
import { Config, type SeveritySetting } from '../config';
import type { Ctx } from '../ctx';
import { DocumentAnalysis, modelCodeSelector, toVsRange, toWorkspaceEdit } from './documentAnalysis';

const severityMap: Record<Exclude<SeveritySetting, 'off'>, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

const debounceMs = 250;

export function registerDiagnostics(ctx: Ctx, analysis: DocumentAnalysis): void {
  const collection = ctx.track(vscode.languages.createDiagnosticCollection('reglens'));
  const timers = new Map<string, NodeJS.Timeout>();
  ctx.track({ dispose: () => timers.forEach((t) => clearTimeout(t)) });

  const lint = async (doc: vscode.TextDocument): Promise<void> => {
    if (!analysis.isSupported(doc)) return;
    if (!ctx.config.diagnosticsEnabled) {
      collection.delete(doc.uri);
      return;
    }
    const version = doc.version;
    try {
      const result = await analysis.analyze(doc);
      if (!result || doc.isClosed || doc.version !== version) return;
      collection.set(doc.uri, result.findings.flatMap((f) => toDiagnostic(ctx, doc, f)));
    } catch (err) {
      ctx.output.error(`analysis of ${doc.uri.fsPath} failed: ${(err as Error).message}`);
    }
  };
  const schedule = (doc: vscode.TextDocument): void => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        void lint(doc);
      }, debounceMs),
    );
  };
  const lintAll = () => vscode.workspace.textDocuments.forEach((d) => void lint(d));

  ctx.track(vscode.workspace.onDidOpenTextDocument((d) => void lint(d)));
  ctx.track(
    vscode.workspace.onDidChangeTextDocument((e) => {
      analysis.recordChanges(e);
      schedule(e.document);
    }),
  );
  ctx.track(
    vscode.workspace.onDidCloseTextDocument((d) => {
      collection.delete(d.uri);
      analysis.forget(d);
    }),
  );
  ctx.track(vscode.workspace.onDidChangeConfiguration((e) => (Config.affects(e, 'diagnostics') || Config.affects(e, 'workspaceIndex')) && lintAll()));
  // A file others rest on changed (edited, saved, created, deleted): re-check the open ones resting on it.
  ctx.track(
    analysis.onDidChangeIndex((change) => {
      const open = vscode.workspace.textDocuments.filter((d) => analysis.isSupported(d));
      // After a bulk indexing, checking every open document is cheaper than finding each one's dependents.
      const all = change.changed.length > 20;
      const recheck = new Set(change.alsoRecheck ?? []);
      if (!all) {
        for (const key of change.changed) {
          for (const d of analysis.index.dependents(key)) recheck.add(d);
          // An imported file's findings can rest on its importers too (their optimizer's weight decay).
          for (const d of analysis.index.dependencies(key)) recheck.add(d);
        }
      }
      for (const doc of open) {
        if (!all && !recheck.has(doc.uri.toString())) continue;
        analysis.invalidate(doc);
        schedule(doc);
      }
    }),
  );
  lintAll();

  ctx.track(
    vscode.languages.registerCodeActionsProvider(modelCodeSelector, new FindingFixes(analysis), {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }),
  );
}

function toDiagnostic(ctx: Ctx, doc: vscode.TextDocument, f: Finding): vscode.Diagnostic[] {
  const setting = ctx.config.ruleSeverity(f.ruleId, f.severity);
  if (setting === 'off') return [];
  const d = new vscode.Diagnostic(toVsRange(f.range), f.message, severityMap[setting]);
  d.source = 'RegLens';
  d.code = f.docsUrl ? { value: f.ruleId, target: vscode.Uri.parse(f.docsUrl) } : f.ruleId;
  // Related places are keyed like the workspace index: by document URI.
  if (f.related?.length) d.relatedInformation = f.related.map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.parse(r.file), toVsRange(r.range)), r.message));
  return [d];
}

class FindingFixes implements vscode.CodeActionProvider {
  constructor(private readonly analysis: DocumentAnalysis) {}

  async provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range,
    context: vscode.CodeActionContext,
  ): Promise<vscode.CodeAction[]> {
    const ours = context.diagnostics.filter((d) => d.source === 'RegLens');
    if (ours.length === 0) return [];
    const result = await this.analysis.analyze(doc);
    if (!result) return [];
    const actions: vscode.CodeAction[] = [];
    for (const diag of ours) {
      const ruleId = typeof diag.code === 'object' ? diag.code.value : diag.code;
      const finding = result.findings.find((f) => f.ruleId === ruleId && toVsRange(f.range).isEqual(diag.range));
      for (const fix of finding?.fixes ?? []) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.edit = toWorkspaceEdit(doc.uri, fix.edits);
        action.diagnostics = [diag];
        action.isPreferred = true;
        actions.push(action);
      }
    }
    // Offered on every finding, fix or not, last: the escape hatch when a finding is right in general but not here.
    const language = doc.languageId;
    if (isSourceLanguage(language)) {
      for (const diag of ours) {
        const ruleId = String(typeof diag.code === 'object' ? diag.code.value : diag.code);
        const action = new vscode.CodeAction(`Disable ${ruleId} for this line`, vscode.CodeActionKind.QuickFix);
        action.edit = toWorkspaceEdit(doc.uri, [suppressionEdit(doc.getText(), language, diag.range.start.line, ruleId)]);
        action.diagnostics = [diag];
        actions.push(action);
      }
    }
    return actions;
  }
}
