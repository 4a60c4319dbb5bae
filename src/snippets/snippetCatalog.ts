import type { Framework } from '../analysis/modelGraph';
import { KERAS_SNIPPETS } from './kerasSnippets';
import { PYTORCH_SNIPPETS } from './pytorchSnippets';
import type { Snippet } from './snippetTypes';
import { TFJS_SNIPPETS } from './tfjsSnippets';

const BY_FRAMEWORK: Record<Framework, readonly Snippet[]> = { pytorch: PYTORCH_SNIPPETS, keras: KERAS_SNIPPETS, tfjs: TFJS_SNIPPETS };

export function snippetsFor(framework: Framework): readonly Snippet[] {
  return BY_FRAMEWORK[framework];
}

export function findSnippet(framework: Framework, id: string): Snippet | undefined {
  return BY_FRAMEWORK[framework].find((s) => s.id === id);
}

export const ALL_SNIPPETS: readonly Snippet[] = [...PYTORCH_SNIPPETS, ...KERAS_SNIPPETS, ...TFJS_SNIPPETS];
