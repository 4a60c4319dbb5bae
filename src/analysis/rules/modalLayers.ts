// Whether a model class of this file can behave differently in train() and eval() mode: only
// dropout, BatchNorm (running statistics) and code reading `self.training` do. A class whose
// whole content is known and holds none of them gives the same result in both modes, so a
// forgotten eval() makes no difference there (issue 14: a Conv2d-only test model under no_grad).
import type { ModelGraph } from '../modelGraph';
import type { RawClass } from '../rawFacts';
import { classifyLayer } from '../modelGraph';
import { callsIn } from './ruleKit';

/** torch.nn classes besides linear/conv/activation/norm layers that are the same in both modes. */
const MODE_FREE_TORCH =
  /^(Sequential|ModuleList|ModuleDict|Parameter|ParameterList|ParameterDict|Identity|Flatten|Unflatten|Embedding|EmbeddingBag|(Adaptive)?(Max|Avg|LP)Pool\dd|MaxUnpool\dd|Upsample\w*|Softmax\w*|LogSoftmax|Softmin|PixelShuffle|PixelUnshuffle|ChannelShuffle|\w*Pad\dd|Fold|Unfold|CosineSimilarity|PairwiseDistance)$/;

/** Bases that add nothing to a class's behaviour in either mode. */
const PLAIN_MODULE_BASE = /^\(?\s*(torch\.nn\.|nn\.)?Module\s*\)?$/;

/**
 * The class a name refers to at `offset`: the latest definition before it that is at module level
 * or inside a function holding `offset` (test files define a `MyModel` in each test).
 */
export function classAt(graph: ModelGraph, name: string, offset: number): RawClass | undefined {
  let best: RawClass | undefined;
  for (const c of graph.classes) {
    if (c.name !== name || c.start > offset || (best && best.start > c.start)) continue;
    const home = graph.functions.filter((f) => f.start < c.start && c.end <= f.end);
    if (home.every((f) => f.start <= offset && offset < f.end)) best = c;
  }
  return best;
}

/**
 * True when the class is a plain nn.Module and everything it builds or calls is known to behave
 * the same in train() and eval(); false when it may hold dropout or BatchNorm, or anything not
 * known (a backbone from a library or passed in, a base class).
 */
export function modeFreeClass(graph: ModelGraph, cls: RawClass, seen: Set<RawClass> = new Set()): boolean {
  if (seen.has(cls)) return true;
  seen.add(cls);
  if (!PLAIN_MODULE_BASE.test(cls.bases)) return false;
  const body = graph.text.slice(cls.start, cls.end);
  if (/\bself\.training\b/.test(body)) return false;
  const init = graph.functions.find((f) => f.name === '__init__' && f.start > cls.start && f.end <= cls.end);
  // A sub-module handed to the constructor (`self.backbone = backbone`) is not known.
  for (const p of init?.params?.slice(1) ?? []) if (new RegExp(`self\\.\\w+\\s*=\\s*${p}\\b`).test(body)) return false;
  for (const c of callsIn(graph, cls.start, cls.end)) {
    if (/^torch\.nn\.functional\.(\w*dropout\w*|batch_norm)$/.test(c.qualified)) return false;
    const torchClass = /^torch\.nn\.([A-Z]\w*)$/.exec(c.qualified)?.[1];
    if (torchClass) {
      const kind = classifyLayer(torchClass);
      if (kind === 'dropout' || kind === 'batchnorm') return false;
      if (kind === 'norm' && c.args.some((a) => a.name === 'track_running_stats' && a.text === 'True')) return false;
      if (kind === 'other' && !MODE_FREE_TORCH.test(torchClass)) return false;
      continue;
    }
    const local = classAt(graph, c.callee, c.start);
    if (local) {
      if (!modeFreeClass(graph, local, seen)) return false;
      continue;
    }
    // Tensor operations are mode-free; a sub-module built by anything else (a library
    // constructor, a factory, torch.hub) is not known.
    if (/^torch\./.test(c.qualified) && !/^torch\.(nn|hub|jit)\./.test(c.qualified)) continue;
    if (c.scope.functionName === '__init__' && c.assignedTo?.startsWith('self.')) return false;
  }
  return true;
}
