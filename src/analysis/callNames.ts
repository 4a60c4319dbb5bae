// Resolving a callee as written ('nn.Dropout', 'layers.Dense', 'tf.layers.dropout') to one
// canonical dotted name per framework, through the file's imports.

/** Where a local name points when the file has no import for it (snippets, notebooks, star imports). */
const PYTHON_DEFAULTS: Record<string, string> = {
  torch: 'torch',
  nn: 'torch.nn',
  F: 'torch.nn.functional',
  optim: 'torch.optim',
  tf: 'tensorflow',
  keras: 'keras',
  layers: 'keras.layers',
};

export class NameResolver {
  /** local name -> dotted target ('nn' -> 'torch.nn', 'Dropout' -> 'torch.nn.Dropout'). */
  readonly aliases = new Map<string, string>();
  readonly wildcards: string[] = [];

  constructor(private readonly language: 'python' | 'tsjs') {}

  bind(local: string, target: string): void {
    this.aliases.set(local, target);
  }

  resolve(callee: string): string {
    if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(callee)) return callee;
    const dot = callee.indexOf('.');
    const head = dot < 0 ? callee : callee.slice(0, dot);
    const rest = dot < 0 ? '' : callee.slice(dot);
    let target = this.aliases.get(head);
    if (target === undefined) {
      if (this.language === 'python') {
        target = PYTHON_DEFAULTS[head];
        if (target === undefined && dot < 0 && this.wildcards.length) target = `${this.wildcards[0]}.${head}`;
      } else if (head === 'tf') {
        target = 'tf';
      }
    }
    return canonical((target ?? head) + rest);
  }
}

/** Folds the many spellings of one API into one: tensorflow.keras.layers.X -> keras.layers.X. */
function canonical(q: string): string {
  return q
    .replace(/^(tensorflow\.|tf\.)?keras\.(src\.)?/, 'keras.')
    .replace(/^keras\.layers\.(core|normalization|regularization)\.\w+\./, 'keras.layers.')
    .replace(/^torch\.nn\.modules\.\w+\./, 'torch.nn.');
}

/** Module a TS/JS import specifier stands for; undefined for anything that is not TF.js. */
export function tfjsModule(spec: string): string | undefined {
  return /^@tensorflow\/tfjs(-node(-gpu)?|-layers|-core)?$/.test(spec) ? 'tf' : undefined;
}
