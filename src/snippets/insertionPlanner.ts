// Plans where a snippet goes in a document and which imports it still needs: pure, on the
// model graph, returning edits the host applies as one WorkspaceEdit (one undo step).
import type { Call, DetectedModel, Framework, GraphLayer, ModelGraph, Optimizer } from '../analysis/modelGraph';
import { decoupledWeightDecay } from '../analysis/rules/adamWeightDecay';
import { importEdit, insertAt } from '../analysis/rules/ruleKit';
import type { TextEdit } from '../analysis/textTypes';
import { findSnippet, snippetsFor } from './snippetCatalog';
import type { Snippet, SnippetImport } from './snippetTypes';

const CANONICAL_PREFIX: Record<Framework, { prefix: string; import: SnippetImport }> = {
  pytorch: { prefix: 'nn.', import: { line: 'from torch import nn', present: '^(import\\s+torch\\.nn\\s+as\\s+nn|from\\s+torch\\s+import\\s+(.*\\W)?nn(\\W.*)?)\\s*$' } },
  keras: { prefix: 'layers.', import: { line: 'from tensorflow.keras import layers', present: '^from\\s+(tensorflow\\.)?keras\\s+import\\s+(.*\\W)?layers(\\W.*)?$' } },
  tfjs: { prefix: 'tf.layers.', import: { line: "import * as tf from '@tensorflow/tfjs';", present: "(import\\s+\\*\\s+as\\s+tf\\s+from|const\\s+tf\\s*=\\s*require\\()\\s*\\(?['\"]@tensorflow/tfjs" } },
};

/** Name a definition snippet introduces (first class/def/function), to skip it when already defined. */
function definedName(snippet: Snippet): string | undefined {
  return /^(?:@[^\n]*\n)?(?:\/\/[^\n]*\n)*(?:class|def|function)\s+(\w+)/m.exec(snippet.code)?.[1];
}

/** Snippets that fit this model and the place: layer snippets need a layer list with a hidden activation. */
export function fittingSnippets(graph: ModelGraph, model: DetectedModel): Snippet[] {
  return snippetsFor(model.framework).filter((s) => {
    if (s.placement === 'layer') return !!model.layerInsert && (s.id !== 'batch-norm' || !model.layers.some((l) => l.kind === 'batchnorm'));
    const name = definedName(s);
    return !name || !graph.definedNames.has(name);
  });
}

/** Edits inserting the snippet for the model, or undefined when it does not fit. */
export function planSnippet(graph: ModelGraph, model: DetectedModel, snippetId: string): TextEdit[] | undefined {
  const snippet = findSnippet(model.framework, snippetId);
  if (!snippet || !fittingSnippets(graph, model).includes(snippet)) return undefined;
  return snippet.placement === 'layer' ? planLayer(graph, model, snippet) : planDefinition(graph, model, snippet);
}

function missingImports(graph: ModelGraph, imports: readonly SnippetImport[]): string[] {
  return imports.filter((imp) => !graph.importLines.some((l) => new RegExp(imp.present, 'm').test(l.text))).map((imp) => imp.line);
}

/** Re-indents code written with `unit`-wide indentation to the file's unit and line ends. */
export function reindent(code: string, from: string, to: string, eol: string): string {
  return code
    .split('\n')
    .map((line) => {
      let depth = 0;
      let rest = line;
      while (rest.startsWith(from)) {
        depth++;
        rest = rest.slice(from.length);
      }
      return to.repeat(depth) + rest;
    })
    .join(eol);
}

function planDefinition(graph: ModelGraph, model: DetectedModel, snippet: Snippet): TextEdit[] {
  const python = graph.language === 'python';
  const code = reindent(snippet.code.replace(/\n+$/, ''), python ? '    ' : '  ', graph.indentUnit, graph.eol);
  const gap = graph.eol.repeat(python ? 3 : 2);
  const edits: TextEdit[] = [];
  const imp = importEdit(graph, missingImports(graph, snippet.imports));
  if (imp) edits.push(imp);
  edits.push(insertAt(graph, model.topLevelStart, code + gap));
  edits.push(...wireDefinition(graph, model, snippet));
  return edits;
}

/**
 * Edits making the model's code use an inserted helper, so the snippet takes effect (and the
 * diagnostic it answers goes away): the decoupled-weight-decay helper replaces the model's
 * PyTorch Adam/AdamW call, or the Keras optimizer given to compile(). Nothing when the call has
 * arguments the helper does not take, or runs before the helper is defined.
 */
function wireDefinition(graph: ModelGraph, model: DetectedModel, snippet: Snippet): TextEdit[] {
  if (snippet.id !== 'decoupled-weight-decay') return [];
  const after = (c: Call) => c.start > model.topLevelStart || c.scope.functionName !== undefined;
  if (model.framework === 'pytorch') {
    const candidates = graph.optimizers.filter(
      (o) => o.framework === 'pytorch' && /^AdamW?$/.test(o.name) && /\.parameters\(\s*\)$/.test(o.paramsText ?? '') && after(o.call),
    );
    const owner = (o: Optimizer) => o.paramsText!.replace(/\.parameters\(\s*\)$/, '');
    const instances = new Set(graph.calls.filter((c) => c.callee === model.name && c.assignedTo).map((c) => c.assignedTo!));
    const opt = candidates.find((o) => owner(o) === model.name || instances.has(owner(o))) ?? (candidates.length === 1 ? candidates[0] : undefined);
    if (!opt) return [];
    const positional = opt.call.args.filter((a) => a.name === undefined);
    const lr = opt.call.args.find((a) => a.name === 'lr') ?? positional[1];
    const known = new Set([opt.call.args.find((a) => a.text === opt.paramsText), lr, opt.weightDecayArg]);
    if (opt.call.args.some((a) => !known.has(a)) || positional.length > 2) return [];
    const wd = opt.weightDecayArg ? (opt.name === 'Adam' ? (decoupledWeightDecay(opt.weightDecay) ?? opt.weightDecayArg.text) : opt.weightDecayArg.text) : undefined;
    const args = [owner(opt), ...(lr ? [`lr=${lr.text}`] : []), ...(wd ? [`weight_decay=${wd}`] : [])];
    return [{ range: opt.call.range, newText: `adamw_with_param_groups(${args.join(', ')})` }];
  }
  if (model.framework === 'keras') {
    const compile = graph.calls.find((c) => c.method === 'compile' && c.receiver === model.name && after(c));
    const arg = compile?.args.find((a) => a.name === 'optimizer') ?? (compile?.args[0]?.name === undefined ? compile?.args[0] : undefined);
    if (!arg) return [];
    // "adam", or an Adam/AdamW given at most its learning rate (other settings would be lost).
    const quoted = /^(['"])adamw?\1$/i.test(arg.text);
    const call = /(^|\.)AdamW?\(\s*(?:learning_rate\s*=\s*)?([^,()=\s][^,()=]*)?\s*\)$/.exec(arg.text);
    if (!quoted && !call) return [];
    const lr = call?.[2] ? `learning_rate=${call[2].trim()}` : '';
    return [{ range: arg.range, newText: `adamw_optimizer(${lr})` }];
  }
  return [];
}

function calleePrefix(layer: GraphLayer | undefined): string | undefined {
  const callee = layer?.call?.callee;
  if (!callee) return undefined;
  const dot = callee.lastIndexOf('.');
  return dot < 0 ? '' : callee.slice(0, dot + 1);
}

function planLayer(graph: ModelGraph, model: DetectedModel, snippet: Snippet): TextEdit[] | undefined {
  const at = model.layerInsert;
  if (!at) return undefined;
  const edits: TextEdit[] = [];
  let prefix = [at.after, at.next, ...model.layers].map(calleePrefix).find((p) => p !== undefined && p !== '') ?? '';
  if (prefix === '') {
    prefix = CANONICAL_PREFIX[model.framework].prefix;
    const imp = importEdit(graph, missingImports(graph, [CANONICAL_PREFIX[model.framework].import]));
    if (imp) edits.push(imp);
  }
  let code = snippet.code;
  if (code.includes('{features}')) {
    const idx = model.layers.indexOf(at.after);
    const linear = model.layers.slice(0, idx + 1).reverse().find((l) => l.kind === 'linear');
    const width = linear?.call ? (linear.call.args.find((a) => a.name === 'out_features') ?? linear.call.args.filter((a) => !a.name)[1]) : undefined;
    code = width ? code.replace('{features}', width.text) : 'LazyBatchNorm1d()';
  }
  const element = prefix + code;
  const text = graph.text;
  const comma = /^\s*,/.exec(text.slice(at.after.end));
  const commaEnd = comma ? at.after.end + comma[0].length : at.after.end;
  const commaLine = graph.index.positionAt(commaEnd).line;
  const nextLine = at.next.range.start.line;
  if (comma && commaLine < nextLine) {
    const lineEnd = graph.index.lineContentEnd(commaLine);
    const indent = /^[ \t]*/.exec(graph.index.lineText(nextLine))![0];
    edits.push(insertAt(graph, lineEnd, `${graph.eol}${indent}${element},`));
  } else {
    edits.push(insertAt(graph, at.after.end, `, ${element}`));
  }
  return edits;
}
