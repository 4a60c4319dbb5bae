// "RegLens: Install Native Backend": npm-installs @tensorflow/tfjs-node(-gpu) into the
// extension's global storage, which RunManager passes to the engine as a native-module
// folder. The packages are never dependencies of RegLens (their install script downloads
// libtensorflow, impossible offline), so this is the one place they get installed.
import * as vscode from 'vscode';
import { installNativeBackend, type NativePackage } from '../../engine/nativeBackend';
import type { Ctx } from '../ctx';

export type NativeKind = 'gpu' | 'cpu';

/** What the command resolves to (for tests and callers; the user sees notifications). */
export type InstallResult = { ok: true; pkg: NativePackage; dir: string } | { ok: false; error: string; cancelled?: boolean };

const CHOICES: (vscode.QuickPickItem & { target: NativeKind; pkg: NativePackage })[] = [
  {
    target: 'gpu',
    pkg: '@tensorflow/tfjs-node-gpu',
    label: 'GPU (CUDA)',
    description: '@tensorflow/tfjs-node-gpu',
    detail: 'Linux with an NVIDIA GPU, CUDA and cuDNN installed. Experiments select it with backend "tensorflow-gpu" (or "auto").',
  },
  {
    target: 'cpu',
    pkg: '@tensorflow/tfjs-node',
    label: 'CPU (native TensorFlow)',
    description: '@tensorflow/tfjs-node',
    detail: 'Linux, macOS or Windows; fast convolutions and every kernel. Experiments select it with backend "tensorflow" (or "auto").',
  },
];

export function registerNativeBackendCommand(ctx: Ctx): void {
  ctx.registerCommand('reglens.installNativeBackend', (kind?: unknown) =>
    installNativeBackendCommand(ctx, kind === 'gpu' || kind === 'cpu' ? kind : undefined),
  );
}

async function installNativeBackendCommand(ctx: Ctx, preset: NativeKind | undefined): Promise<InstallResult | undefined> {
  const choice = preset
    ? CHOICES.find((c) => c.target === preset)!
    : await vscode.window.showQuickPick(CHOICES, { title: 'RegLens: Install Native Backend', placeHolder: 'Which TensorFlow backend?' });
  if (!choice) return undefined;
  const dir = ctx.extension.globalStorageUri.fsPath;
  ctx.output.info(`installing ${choice.pkg} into ${dir}`);
  const controller = new AbortController();
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RegLens: installing ${choice.pkg}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        return installNativeBackend(
          dir,
          choice.pkg,
          (line) => {
            // The full npm output goes to the log; the notification shows the latest line.
            ctx.output.info(`[npm] ${line}`);
            progress.report({ message: line.length > 80 ? line.slice(0, 77) + '…' : line });
          },
          undefined,
          controller.signal,
        );
      },
    );
  } catch (err) {
    const message = (err as Error).message;
    ctx.output.error(message);
    if (controller.signal.aborted) {
      void vscode.window.showInformationMessage(`RegLens: installing ${choice.pkg} was cancelled.`);
      return { ok: false, error: message, cancelled: true };
    }
    const first = message.split('\n')[0];
    const shown = message.startsWith('offline:')
      ? `RegLens could not install ${choice.pkg}: the npm registry or the TensorFlow binary host (storage.googleapis.com) is unreachable. Connect to the internet and try again, or install it elsewhere and set reglens.training.nativeModulePath.`
      : `RegLens could not install ${choice.pkg}: ${first}`;
    void vscode.window.showErrorMessage(shown, 'Show Log').then((c) => c && ctx.output.show());
    return { ok: false, error: message };
  }
  ctx.output.info(`installed ${choice.pkg} into ${dir}`);
  void vscode.window.showInformationMessage(
    `RegLens: ${choice.pkg} is installed. Runs with backend "auto" or "${choice.target === 'gpu' ? 'tensorflow-gpu' : 'tensorflow'}" use it; the started event of each run says which backend it got.`,
  );
  return { ok: true, pkg: choice.pkg, dir };
}
