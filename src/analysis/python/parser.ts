import { createAnalyzer } from '../analyzer';
import type { AnalysisResult } from '../textTypes';

export interface PythonAnalyzer {
  /** Never throws: on an internal failure it returns no findings and parseErrors >= 1. */
  analyze(text: string): AnalysisResult;
  /** Frees the wasm parser; analyze() must not be called afterwards. */
  dispose(): void;
}

/** A Python-only view of the multi-language analyzer (for tests and callers that only read Python). */
export async function createPythonAnalyzer(): Promise<PythonAnalyzer> {
  const analyzer = await createAnalyzer();
  return {
    analyze: (text) => analyzer.analyze(text, 'python').result,
    dispose: () => analyzer.dispose(),
  };
}
