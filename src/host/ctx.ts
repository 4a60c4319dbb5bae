// The extension's context: owns the long-lived services and every disposable, grouped
// by owner so that nothing registered is discarded (rust-analyzer's ctx.ts pattern).
import * as vscode from 'vscode';
import { Config } from './config';

export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];

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
