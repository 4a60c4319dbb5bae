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
    let functionName: string | undefined;
    let functionStart: number | undefined;
    let functionEnd: number | undefined;
    let className: string | undefined;
    let loopDepth = 0;
    let loopStart: number | undefined;
    let loopEnd: number | undefined;
    let inNoGrad = false;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i];
      if (f.kind === 'nograd') inNoGrad = true;
      else if (f.kind === 'loop' && functionName === undefined) {
        loopDepth++;
        if (loopStart === undefined) {
          loopStart = f.start;
          loopEnd = f.end;
        }
      } else if (f.kind === 'function' && functionName === undefined) {
        functionName = f.name ?? '';
        functionStart = f.start;
        functionEnd = f.end;
      } else if (f.kind === 'class' && className === undefined) {
        className = f.name;
      }
    }
    // Every field present, one shape for all scopes (see makeCall in extractFacts.ts).
    return { functionName, functionStart, functionEnd, className, loopDepth, loopStart, loopEnd, inNoGrad };
  }

  /** Name of the innermost function, '' for anonymous ones, undefined at top level. */
  functionName(): string | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i].kind === 'function') return this.frames[i].name ?? '';
    return undefined;
  }
}
