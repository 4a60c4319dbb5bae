// "RegLens: Open Example Experiment…": the examples shipped in the extension (examples/*.reglens.json)
// are copied into the workspace, opened, and offered to run. Without this, someone who installed
// the .vsix has no experiment file to run and nothing in the palette to start from.
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

export interface BundledExample {
  /** File name, e.g. grok-corrupted.reglens.json. */
  file: string;
  name: string;
  description: string;
}

/** The bundled examples with the name and description from each file (unreadable files are skipped). */
export async function bundledExamples(ctx: Ctx): Promise<BundledExample[]> {
  const dir = vscode.Uri.joinPath(ctx.extension.extensionUri, 'examples');
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(dir);
  } catch {
    return [];
  }
  const out: BundledExample[] = [];
  for (const [file, type] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    if (type !== vscode.FileType.File || !file.endsWith('.reglens.json')) continue;
    try {
      const json = JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, file))).toString('utf8')) as { name?: unknown; description?: unknown };
      out.push({ file, name: typeof json.name === 'string' ? json.name : file, description: typeof json.description === 'string' ? json.description : '' });
    } catch (err) {
      ctx.output.warn(`bundled example ${file} is unreadable: ${(err as Error).message}`);
    }
  }
  return out;
}

/** Where the copy goes: <first workspace folder>/<file>, or <file>-2, -3… when taken. */
async function freeTarget(folder: vscode.Uri, file: string): Promise<vscode.Uri> {
  const stem = file.replace(/\.reglens\.json$/, '');
  for (let i = 1; ; i++) {
    const uri = vscode.Uri.joinPath(folder, i === 1 ? file : `${stem}-${i}.reglens.json`);
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      return uri;
    }
  }
}

/**
 * Copies the example into the workspace and opens it. `file` (a bundled file name) skips the
 * quick pick; returns the new file, or undefined when cancelled or impossible.
 */
export async function openExample(ctx: Ctx, file?: string): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri;
  if (!folder) {
    void vscode.window.showWarningMessage('RegLens: open a folder first; the example experiment and its runs are saved in it.');
    return undefined;
  }
  const examples = await bundledExamples(ctx);
  let chosen = file ? examples.find((e) => e.file === file) : undefined;
  if (file && !chosen) {
    void vscode.window.showErrorMessage(`RegLens has no bundled example "${file}" (have: ${examples.map((e) => e.file).join(', ')}).`);
    return undefined;
  }
  if (!chosen) {
    const pick = await vscode.window.showQuickPick(
      examples.map((e) => ({ label: e.name, description: e.file, detail: e.description, example: e })),
      { title: 'RegLens: Open Example Experiment', placeHolder: 'Copied into your workspace folder, then opened', matchOnDetail: true },
    );
    chosen = pick?.example;
  }
  if (!chosen) return undefined;
  const source = vscode.Uri.joinPath(ctx.extension.extensionUri, 'examples', chosen.file);
  const json = JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(source)).toString('utf8')) as Record<string, unknown>;
  // The bundled "$schema" is relative to the extension's folder; in the workspace the schema
  // comes from the extension's jsonValidation contribution instead.
  delete json.$schema;
  const target = await freeTarget(folder, chosen.file);
  await vscode.workspace.fs.writeFile(target, Buffer.from(`${JSON.stringify(json, null, 2)}\n`, 'utf8'));
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(target));
  ctx.output.info(`example ${chosen.file} copied to ${target.fsPath}`);
  void vscode.window
    .showInformationMessage(`RegLens: ${vscode.workspace.asRelativePath(target)} is ready. Run it to train and open its dashboard.`, 'Run Experiment')
    .then((choice) => choice && vscode.commands.executeCommand('reglens.runExperiment', target));
  return target;
}

export function registerExampleCommands(ctx: Ctx): void {
  ctx.registerCommand('reglens.openExample', (file?: unknown) => openExample(ctx, typeof file === 'string' ? file : undefined));
}
