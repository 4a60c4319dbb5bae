// Publishes analyzer findings as diagnostics (debounced on typing), and offers each
// finding's fixes as quick fixes.
import * as vscode from 'vscode';
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
  ctx.track(vscode.workspace.onDidChangeConfiguration((e) => Config.affects(e, 'diagnostics') && lintAll()));
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
    return actions;
  }
}
