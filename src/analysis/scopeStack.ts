import type { Scope } from './modelGraph';

interface Frame {
  kind: 'function' | 'class' | 'loop' | 'nograd';
  start: number;
  end: number;
  name?: string;
}

/**
 * Tracks the enclosing functions, classes, loops and no-grad blocks while visiting nodes in
 * document order (tree-sitter's descendantsOfType order), so a call's scope costs no parent
 * walks across the wasm boundary.
 */
export class ScopeStack {
  private readonly frames: Frame[] = [];

  /** Pops every frame that ends before `start`. Call before visiting each node. */
  advance(start: number): void {
    while (this.frames.length && this.frames[this.frames.length - 1].end <= start) this.frames.pop();
  }

  push(kind: Frame['kind'], start: number, end: number, name?: string): void {
    this.frames.push({ kind, start, end, name });
  }

  current(): Scope {
    const scope: Scope = { loopDepth: 0, inNoGrad: false };
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (f.kind === 'nograd') scope.inNoGrad = true;
      else if (f.kind === 'loop' && scope.functionName === undefined) {
        scope.loopDepth++;
        if (scope.loopStart === undefined) {
          scope.loopStart = f.start;
          scope.loopEnd = f.end;
        }
      } else if (f.kind === 'function' && scope.functionName === undefined) {
        scope.functionName = f.name ?? '';
        scope.functionStart = f.start;
        scope.functionEnd = f.end;
      } else if (f.kind === 'class' && scope.className === undefined) {
        scope.className = f.name;
      }
    }
    return scope;
  }

  /** Name of the innermost function, '' for anonymous ones, undefined at top level. */
  functionName(): string | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i].kind === 'function') return this.frames[i].name ?? '';
    return undefined;
  }
}
