// Reveal a run folder (or a saved model): in the OS file manager where VS Code has one, else
// in the Explorer. Under code-server, VS Code for the Web and remote windows the command
// `revealFileInOS` does not exist ("command 'revealFileInOS' not found"), so the Explorer
// is the fallback; when neither works the user is told why and where the folder is.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';

export type RevealedIn = 'os' | 'explorer';

async function hasCommand(id: string): Promise<boolean> {
  return (await vscode.commands.getCommands(true)).includes(id);
}

/** Resolves with where it was revealed, or undefined after showing an error. */
export async function revealPath(target: vscode.Uri, ctx: Ctx): Promise<RevealedIn | undefined> {
  const problems: string[] = [];
  // A remote window's revealFileInOS would open the client machine's file manager on a path
  // that exists on the server only: use it for local files only.
  if (vscode.env.remoteName === undefined && target.scheme === 'file' && (await hasCommand('revealFileInOS'))) {
    try {
      await vscode.commands.executeCommand('revealFileInOS', target);
      return 'os';
    } catch (err) {
      problems.push(`the file manager: ${(err as Error).message}`);
    }
  }
  if (vscode.workspace.getWorkspaceFolder(target)) {
    try {
      await vscode.commands.executeCommand('revealInExplorer', target);
      return 'explorer';
    } catch (err) {
      problems.push(`the Explorer: ${(err as Error).message}`);
    }
  } else {
    problems.push('the Explorer: the folder is outside the workspace folders');
  }
  const text = `RegLens could not reveal ${target.fsPath} (${problems.join('; ')}). Copy the path, or open the folder with File > Open Folder.`;
  ctx.output.warn(text);
  void ctx.notify('error', text, 'Copy Path').then((c) => {
    if (c) void vscode.env.clipboard.writeText(target.fsPath);
  });
  return undefined;
}
