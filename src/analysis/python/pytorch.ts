import type { Node } from 'web-tree-sitter';
import type { Range } from '../textTypes';
import type { NodeText } from './nodeText';

// A deliberately small model graph: the positional layers of nn.Sequential calls, in order.
// Anything it does not recognise becomes an 'other' layer or is skipped, never an error.

export type LayerKind = 'dropout' | 'batchnorm' | 'activation' | 'linear' | 'conv' | 'other';

export interface LayerArgument {
  /** Keyword name, absent for positional arguments. */
  name?: string;
  /** Source text of the value. */
  text: string;
  range: Range;
}

export interface Layer {
  index: number;
  kind: LayerKind;
  /** torch.nn class name when resolved ('Dropout'); otherwise the callee as written; '' for non-calls. */
  constructorName: string;
  /** Callee as written ('nn.Dropout', 'Dropout'); '' for non-calls such as a variable or *splat. */
  calleeText: string;
  args: LayerArgument[];
  /** Source text of the whole argument expression. */
  text: string;
  range: Range;
  /** From the expression's start through its trailing comma, when there is one. */
  rangeWithComma: Range;
  /** UTF-16 offsets of range / rangeWithComma in the analysed text, for building edits. */
  start: number;
  end: number;
  endWithComma: number;
}

export interface SequentialModel {
  /** The whole call, `nn.Sequential(...)`. */
  range: Range;
  start: number;
  end: number;
  /** Callee as written: 'nn.Sequential', 'torch.nn.Sequential', 'Sequential'. */
  calleeText: string;
  /** Qualifier to reuse for sibling layers: 'nn.', 'torch.nn.', or '' for a bare import. */
  modulePrefix: string;
  layers: Layer[];
}

/** A `from torch.nn import ...` statement, so an edit can add a name to it. */
export interface NnImportFrom {
  /** Local names bound by it, e.g. Sequential, ReLU, or an alias. */
  localNames: string[];
  /** Offset just after the last imported name, where `, Dropout` can be appended. */
  lastNameEnd: number;
}

export interface TorchImports {
  /** Local name -> dotted module it is bound to ('nn' -> 'torch.nn', 'torch' -> 'torch'). */
  moduleAliases: Map<string, string>;
  /** Local name -> torch.nn member it was imported as (`from torch.nn import Dropout as D`). */
  nnNames: Map<string, string>;
  /** `from torch.nn import *` was seen. */
  nnWildcard: boolean;
  nnImportFroms: NnImportFrom[];
}

export interface PytorchModel {
  imports: TorchImports;
  sequentials: SequentialModel[];
}

const DROPOUT = new Set(['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout', 'FeatureAlphaDropout']);
const BATCHNORM = new Set([
  'BatchNorm1d', 'BatchNorm2d', 'BatchNorm3d', 'LazyBatchNorm1d', 'LazyBatchNorm2d', 'LazyBatchNorm3d', 'SyncBatchNorm',
]);
// Softmax/LogSoftmax are left out on purpose: they normalise outputs, not hidden features.
const ACTIVATION = new Set([
  'ReLU', 'ReLU6', 'GELU', 'Tanh', 'Sigmoid', 'LeakyReLU', 'SiLU', 'ELU', 'SELU', 'CELU', 'Mish', 'PReLU', 'RReLU',
  'Hardtanh', 'Hardswish', 'Hardsigmoid', 'Softplus', 'Softsign', 'Tanhshrink', 'LogSigmoid', 'GLU', 'Threshold',
]);
const LINEAR = new Set(['Linear', 'LazyLinear', 'Bilinear']);
const CONV = new Set([
  'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d',
  'LazyConv1d', 'LazyConv2d', 'LazyConv3d', 'LazyConvTranspose1d', 'LazyConvTranspose2d', 'LazyConvTranspose3d',
]);

export function layerKind(nnName: string): LayerKind {
  if (DROPOUT.has(nnName)) return 'dropout';
  if (BATCHNORM.has(nnName)) return 'batchnorm';
  if (ACTIVATION.has(nnName)) return 'activation';
  if (LINEAR.has(nnName)) return 'linear';
  if (CONV.has(nnName)) return 'conv';
  return 'other';
}

const DOTTED = /^[A-Za-z_]\w*(\s*\.\s*[A-Za-z_]\w*)*$/;

function dottedSegments(text: string): string[] | undefined {
  return DOTTED.test(text) ? text.split('.').map((s) => s.trim()) : undefined;
}

/**
 * The torch.nn member a callee refers to, or undefined. `nn.X` and `torch.nn.X` are accepted
 * even without a visible import (snippets, star-imported helpers) unless `nn`/`torch` is bound
 * to something else, e.g. `import flax.linen as nn`, whose Sequential/Dropout differ.
 */
export function resolveNnName(calleeText: string, imports: TorchImports): string | undefined {
  const segments = dottedSegments(calleeText);
  if (!segments) return undefined;
  if (segments.length === 1) {
    const name = segments[0];
    return imports.nnNames.get(name) ?? (imports.nnWildcard ? name : undefined);
  }
  const head = imports.moduleAliases.get(segments[0]) ?? segments[0];
  const qualifier = [head, ...segments.slice(1, -1)].join('.');
  return qualifier === 'torch.nn' || qualifier === 'nn' ? segments[segments.length - 1] : undefined;
}

function emptyImports(): TorchImports {
  return { moduleAliases: new Map(), nnNames: new Map(), nnWildcard: false, nnImportFroms: [] };
}

function addImport(node: Node, nt: NodeText, imports: TorchImports): void {
  if (node.type === 'import_statement') {
    for (const name of node.childrenForFieldName('name')) {
      if (!name) continue;
      if (name.type === 'aliased_import') {
        const target = name.childForFieldName('name');
        const alias = name.childForFieldName('alias');
        if (target && alias) imports.moduleAliases.set(nt.of(alias), dotted(nt.of(target)));
      } else {
        // `import torch.nn` binds only `torch`.
        const head = dotted(nt.of(name)).split('.')[0];
        imports.moduleAliases.set(head, head);
      }
    }
    return;
  }
  // import_from_statement
  const moduleNode = node.childForFieldName('module_name');
  if (!moduleNode || moduleNode.type !== 'dotted_name') return;
  const moduleName = dotted(nt.of(moduleNode));
  const isNn = moduleName === 'torch.nn';
  if (isNn && node.namedChildren.some((c) => c?.type === 'wildcard_import')) imports.nnWildcard = true;
  const localNames: string[] = [];
  let lastNameEnd = -1;
  for (const name of node.childrenForFieldName('name')) {
    if (!name) continue;
    const target = name.type === 'aliased_import' ? name.childForFieldName('name') : name;
    const alias = name.type === 'aliased_import' ? name.childForFieldName('alias') : name;
    if (!target || !alias) continue;
    const member = dotted(nt.of(target));
    const local = nt.of(alias);
    imports.moduleAliases.set(local, `${moduleName}.${member}`);
    if (isNn) {
      imports.nnNames.set(local, member);
      localNames.push(local);
    }
    lastNameEnd = Math.max(lastNameEnd, nt.end(name));
  }
  if (isNn && lastNameEnd >= 0) imports.nnImportFroms.push({ localNames, lastNameEnd });
}

function dotted(text: string): string {
  return text.replace(/\s+/g, '');
}

const NON_POSITIONAL = new Set(['comment', 'keyword_argument', 'dictionary_splat']);

function readArguments(argList: Node, nt: NodeText): LayerArgument[] {
  const args: LayerArgument[] = [];
  for (const child of argList.namedChildren) {
    if (!child || child.type === 'comment') continue;
    if (child.type === 'keyword_argument') {
      const name = child.childForFieldName('name');
      const value = child.childForFieldName('value');
      if (name && value) args.push({ name: nt.of(name), text: nt.of(value), range: nt.range(value) });
    } else {
      args.push({ text: nt.of(child), range: nt.range(child) });
    }
  }
  return args;
}

function trailingCommaEnd(node: Node, nt: NodeText): number {
  let next = node.nextSibling;
  while (next && next.type === 'comment') next = next.nextSibling;
  return next && next.type === ',' ? nt.end(next) : nt.end(node);
}

function readLayer(node: Node, index: number, nt: NodeText, imports: TorchImports): Layer {
  const start = nt.start(node);
  const end = nt.end(node);
  const endWithComma = trailingCommaEnd(node, nt);
  let calleeText = '';
  let constructorName = '';
  let kind: LayerKind = 'other';
  let args: LayerArgument[] = [];
  if (node.type === 'call') {
    const fn = node.childForFieldName('function');
    const argList = node.childForFieldName('arguments');
    calleeText = fn ? nt.of(fn) : '';
    const nnName = resolveNnName(calleeText, imports);
    constructorName = nnName ?? calleeText;
    kind = nnName ? layerKind(nnName) : 'other';
    if (argList && argList.type === 'argument_list') args = readArguments(argList, nt);
  }
  return {
    index,
    kind,
    constructorName,
    calleeText,
    args,
    text: nt.text.slice(start, end),
    range: nt.index.rangeAt(start, end),
    rangeWithComma: nt.index.rangeAt(start, endWithComma),
    start,
    end,
    endWithComma,
  };
}

function readSequential(call: Node, nt: NodeText, imports: TorchImports): SequentialModel | undefined {
  const fn = call.childForFieldName('function');
  const argList = call.childForFieldName('arguments');
  if (!fn || !argList || argList.type !== 'argument_list') return undefined;
  const calleeText = nt.of(fn);
  if (resolveNnName(calleeText, imports) !== 'Sequential') return undefined;
  const segments = dottedSegments(calleeText) ?? [];
  const modulePrefix = segments.length > 1 ? `${segments.slice(0, -1).join('.')}.` : '';
  const layers: Layer[] = [];
  for (const child of argList.namedChildren) {
    if (!child || NON_POSITIONAL.has(child.type)) continue;
    layers.push(readLayer(child, layers.length, nt, imports));
  }
  const start = nt.start(call);
  const end = nt.end(call);
  return { range: nt.index.rangeAt(start, end), start, end, calleeText, modulePrefix, layers };
}

/**
 * descendantsOfType collects the import statements and calls inside wasm in one call (a JS-side
 * cursor walk crosses the wasm boundary per node and costs several times more); imports are
 * applied first so calls above a late import still resolve.
 */
export function readPytorchModel(root: Node, nt: NodeText): PytorchModel {
  const imports = emptyImports();
  for (const node of root.descendantsOfType(['import_statement', 'import_from_statement'])) if (node) addImport(node, nt, imports);
  const sequentials: SequentialModel[] = [];
  for (const call of root.descendantsOfType('call')) {
    const model = call ? readSequential(call, nt, imports) : undefined;
    if (model) sequentials.push(model);
  }
  return { imports, sequentials };
}
