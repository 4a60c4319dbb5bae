// The extension's context: owns the long-lived services and every disposable, grouped
// by owner so that nothing registered is discarded (rust-analyzer's ctx.ts pattern).
import * as vscode from 'vscode';
import { Config } from './config';

export type NoticeSeverity = 'info' | 'warning' | 'error';
export type NoticeKind = NoticeSeverity | 'progress';

export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  /** The context keys this extension set and their values (for tests: VS Code has no getter). */
  readonly contextKeys = new Map<string, unknown>();
  /** Notifications shown through notify(), newest last (a test hook; the UI shows the toasts). */
  readonly notices: { severity: NoticeKind; text: string }[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = this.track(vscode.window.createOutputChannel('RegLens', { log: true }));
  }

  /** Registers a disposable for the extension's lifetime and returns it. */
  track<T extends vscode.Disposable>(d: T): T {
    this.disposables.push(d);
    return d;
  }

  registerCommand(id: string, fn: (...args: any[]) => unknown): void {
    this.track(vscode.commands.registerCommand(id, fn));
  }

  /** Sets a `when`-clause context key (skipped when unchanged). */
  setContext(key: string, value: unknown): void {
    if (this.contextKeys.has(key) && this.contextKeys.get(key) === value) return;
    this.contextKeys.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  /** Shows a notification and resolves with the action chosen (undefined when dismissed). */
  notify(severity: NoticeSeverity, text: string, ...actions: string[]): Thenable<string | undefined> {
    this.record(severity, text);
    const show = severity === 'error' ? vscode.window.showErrorMessage : severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    return show(text, ...actions);
  }

  /** A progress notification (recorded like notify()). */
  withProgress<R>(
    options: { title: string; cancellable?: boolean },
    task: (progress: vscode.Progress<{ message?: string; increment?: number }>, token: vscode.CancellationToken) => Thenable<R>,
  ): Thenable<R> {
    this.record('progress', options.title);
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, ...options }, task);
  }

  private record(severity: NoticeKind, text: string): void {
    this.notices.push({ severity, text });
    if (this.notices.length > 100) this.notices.shift();
  }

  asAbsolutePath(rel: string): string {
    return this.extension.asAbsolutePath(rel);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (err) {
        console.error('[reglens] dispose failed', err);
      }
    }
  }
}
