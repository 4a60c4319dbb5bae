// Which Python the PyTorch engine runs in, for a workspace folder: reglens.python.interpreter,
// else the interpreter the Python extension (ms-python.python) has selected for the folder,
// through its public environments API, else undefined (engine.js then uses REGLENS_PYTHON or
// python3). Never in an untrusted workspace: the interpreter is code the workspace may choose.
import * as vscode from 'vscode';
import { interpreterFromSetting } from '../../runs/interpreterSetting';
import type { Config } from '../config';

/** The part of ms-python.python's exported API used here (@vscode/python-extension's PythonExtension). */
interface PythonExtensionApi {
  ready?: Promise<void>;
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(env: { id: string; path: string } | string): Promise<{ executable: { uri: vscode.Uri | undefined } } | undefined>;
  };
}

/** Activating the Python extension can take a while on first use; a run does not wait longer for it. */
const PYTHON_EXTENSION_TIMEOUT_MS = 15_000;

export interface InterpreterChoice {
  python: string | undefined;
  /** Where it came from, for the log. */
  source: 'setting' | 'python extension' | 'default';
}

function withTimeout<T>(p: PromiseLike<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    Promise.resolve(p).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

async function fromPythonExtension(resource: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await withTimeout(ext.activate(), PYTHON_EXTENSION_TIMEOUT_MS);
    const envs = api?.environments;
    if (!envs) return undefined;
    if (api.ready) await withTimeout(api.ready, PYTHON_EXTENSION_TIMEOUT_MS);
    const active = envs.getActiveEnvironmentPath(resource);
    // The active path may be a folder (a conda env); the resolved environment names its executable.
    const resolved = await withTimeout(envs.resolveEnvironment(active), PYTHON_EXTENSION_TIMEOUT_MS);
    return resolved?.executable.uri?.fsPath;
  } catch (err) {
    log.warn(`the Python extension did not tell its interpreter: ${(err as Error).message}`);
    return undefined;
  }
}

export async function pythonInterpreterFor(config: Config, resource: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<InterpreterChoice> {
  if (!vscode.workspace.isTrusted) return { python: undefined, source: 'default' };
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  const folderPath = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
  const set = interpreterFromSetting(config.pythonInterpreter(resource ?? folder?.uri), folderPath);
  if (set) return { python: set, source: 'setting' };
  const fromExtension = await fromPythonExtension(resource ?? folder?.uri, log);
  if (fromExtension) return { python: fromExtension, source: 'python extension' };
  return { python: undefined, source: 'default' };
}
