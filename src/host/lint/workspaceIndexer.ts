// Keeps the workspace index (DocumentAnalysis.index) in step with the Python files on disk: all
// of them in the background after activation (one file per slice, the extension host runs in
// between; progress in the status bar), then each file again when it is created, changed or
// deleted on disk. Open documents are indexed from their current text by DocumentAnalysis, so
// disk events for them are ignored until they are closed. Reading and parsing runs no workspace
// code, so this also runs in untrusted workspaces.
import * as vscode from 'vscode';
import { indexFiles, type IndexFilesStats } from '../../analysis/workspace/indexFiles';
import type { Ctx } from '../ctx';
import type { DocumentAnalysis } from './documentAnalysis';

/** Folders never indexed: dependencies, environments, caches and build output. */
export const INDEX_EXCLUDE = '{**/node_modules/**,**/.venv/**,**/venv/**,**/env/**,**/.env/**,**/site-packages/**,**/.git/**,**/__pycache__/**,**/.tox/**,**/.nox/**,**/build/**,**/dist/**,**/.reglens/**}';
/** Disk events for one file are gathered this long (an editor's save writes several times). */
const DISK_EVENT_MS = 200;

export class WorkspaceIndexer implements vscode.Disposable {
  private disposed = false;
  /** Bumped when a full indexing starts: an older one stops at its next file. */
  private run = 0;
  private readonly pendingDisk = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The last full indexing (for the log and tests). */
  lastStats: IndexFilesStats | undefined;
  /** Resolves when the current full indexing has ended. */
  idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: Ctx,
    private readonly analysis: DocumentAnalysis,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.py');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => this.diskChanged(uri)),
      watcher.onDidChange((uri) => this.diskChanged(uri)),
      watcher.onDidDelete((uri) => this.deleted(uri)),
      // A closed document's unsaved edits are gone: the file on disk is what counts again.
      vscode.workspace.onDidCloseTextDocument((doc) => doc.uri.scheme === 'file' && doc.languageId === 'python' && this.diskChanged(doc.uri)),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('reglens.workspaceIndex') && this.start()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.start()),
    );
  }

  /** Indexes every Python file of the workspace in the background (again, when called again). */
  start(): void {
    const run = ++this.run;
    this.idle = this.indexAll(run).catch((err) => this.ctx.output.error(`workspace index: ${(err as Error).message}`));
  }

  private async indexAll(run: number): Promise<void> {
    const config = this.ctx.config;
    const max = config.workspaceIndexMaxFiles;
    if (!config.workspaceIndexEnabled || max === 0 || !vscode.workspace.workspaceFolders?.length) return;
    const uris = await vscode.workspace.findFiles('**/*.py', INDEX_EXCLUDE, max + 1);
    if (this.stale(run)) return;
    if (uris.length > max) this.ctx.output.warn(`workspace index: more than ${max} Python files; indexing the first ${max} (setting reglens.workspaceIndex.maxFiles)`);
    const keys = uris.slice(0, max).map((u) => u.toString());
    const analyzer = await this.analysis.analyzerReady();
    const stats = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'RegLens: indexing Python files' }, (progress) =>
      indexFiles(this.analysis.index, analyzer, keys, {
        // An open document is indexed from its editor text, which may be newer than the disk.
        read: async (key) => (isOpen(key) ? undefined : readText(vscode.Uri.parse(key))),
        isCancelled: () => this.stale(run),
        onProgress: (done, total) => {
          if (done % 25 === 0 || done === total) progress.report({ message: `${done}/${total}`, increment: (25 / total) * 100 });
        },
      }),
    );
    this.lastStats = stats;
    this.ctx.output.info(
      `workspace index: ${stats.indexed} of ${stats.files} Python files in ${Math.round(stats.totalMs)} ms (longest slice ${stats.longestSliceMs.toFixed(1)} ms)${stats.cancelled ? ', stopped' : ''}`,
    );
    this.analysis.announceIndexChange({ changed: stats.changed });
  }

  private stale(run: number): boolean {
    return this.disposed || run !== this.run;
  }

  private diskChanged(uri: vscode.Uri): void {
    if (!this.ctx.config.workspaceIndexEnabled || this.disposed) return;
    const key = uri.toString();
    clearTimeout(this.pendingDisk.get(key));
    this.pendingDisk.set(
      key,
      setTimeout(() => {
        this.pendingDisk.delete(key);
        void this.reindex(uri).catch((err) => this.ctx.output.error(`workspace index: ${uri.fsPath}: ${(err as Error).message}`));
      }, DISK_EVENT_MS),
    );
  }

  private async reindex(uri: vscode.Uri): Promise<void> {
    const key = uri.toString();
    if (isOpen(key) || this.disposed) return;
    const analyzer = await this.analysis.analyzerReady();
    const stats = await indexFiles(this.analysis.index, analyzer, [key], { read: () => readText(uri) });
    this.analysis.announceIndexChange({ changed: stats.changed });
  }

  private deleted(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.pendingDisk.get(key));
    this.pendingDisk.delete(key);
    if (isOpen(key)) return;
    // Its dependents are known only while it is still indexed.
    const dependents = this.analysis.index.dependents(key);
    if (this.analysis.index.remove(key)) this.analysis.announceIndexChange({ changed: [], alsoRecheck: dependents });
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.pendingDisk.values()) clearTimeout(t);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function isOpen(key: string): boolean {
  return vscode.workspace.textDocuments.some((d) => d.uri.toString() === key && !d.isClosed);
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    // Deleted or unreadable since it was listed: nothing to index.
    return undefined;
  }
}
