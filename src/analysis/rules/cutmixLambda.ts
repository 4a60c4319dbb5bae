import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { callsIn, finding, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const CUTMIX_LAMBDA: RuleInfo = {
  id: 'cutmix-lambda',
  title: 'CutMix without lambda recomputation or label mixing',
  docsUrl: ruleDocsUrl('cutmix-lambda'),
  source: 'https://arxiv.org/abs/1905.04899',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.cutmixLambda.severity',
};

const BOX = /rand_bbox|bbx1|bby1|cut_rat|cut_w|cutmix|cut_mix|randBbox|cutW/i;
/** A Beta draw: numpy/random, or torch.distributions.Beta(a, b).sample(). */
const BETA_DRAW = /(^|\.)(beta|betavariate)$|(^|\.)Beta\(.*\)\.(r?sample)$/;
const LOSS = /loss|crit|cross_entropy|nll/i;

/** Source lines of a function that belong to it, not to functions nested in it. */
function ownText(graph: ModelGraph, fn: { start: number; end: number }): string {
  let out = '';
  let cursor = fn.start;
  for (const g of graph.functions) {
    if (g.start <= fn.start || g.end > fn.end || g.start < cursor) continue;
    out += graph.text.slice(cursor, g.start);
    cursor = g.end;
  }
  return out + graph.text.slice(cursor, fn.end);
}

/** The comma-separated values of each `return` statement (top level of the expression). */
function returnedValues(body: string): string[][] {
  const out: string[][] = [];
  for (const m of body.matchAll(/^[ \t]*return\b(.*)$/gm)) {
    const values: string[] = [];
    let depth = 0;
    let part = '';
    for (const ch of m[1].replace(/#.*$/, '')) {
      if ('([{'.includes(ch)) depth++;
      if (')]}'.includes(ch)) depth--;
      if (ch === ',' && depth === 0) {
        values.push(part.trim());
        part = '';
      } else part += ch;
    }
    if (part.trim()) values.push(part.trim());
    out.push(values.map((v) => v.replace(/^\(\s*|\s*\)$/g, '')));
  }
  return out;
}

/**
 * CutMix (Yun et al. 2019): after clipping the box to the image, lambda must be recomputed from
 * the pasted area, and the loss mixes both labels with it; otherwise targets do not match the
 * pixels. A helper that hands lambda on (returns it, stores it, passes it to a target-mixing
 * call) leaves the mixing to its caller; one that returns only the images makes it impossible.
 */
export function checkCutmixLambda(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const fn of graph.functions) {
    const body = graph.text.slice(fn.start, fn.end);
    if (!BOX.test(body) && !BOX.test(fn.name)) continue;
    const calls = callsIn(graph, fn.start, fn.end);
    const beta = calls.find((c) => BETA_DRAW.test(c.callee));
    if (!beta) continue;
    // The name the draw lands in, also through a wrapper (`lam = float(np.random.beta(a, a))`).
    const line = graph.index.lineText(beta.range.start.line);
    const lam = /^\s*([A-Za-z_]\w*)\s*=(?!=)/.exec(line)?.[1];
    if (!lam) continue;
    const own = ownText(graph, fn);
    const assigns = own.match(new RegExp(`(^|[^\\w.])${lam}\\s*=[^=]`, 'gm'))?.length ?? 0;
    const problems: string[] = [];
    if (assigns < 2) problems.push(`${lam} not recomputed from the clipped box`);
    const mixed = new RegExp(`\\(\\s*1\\.?0?\\s*-\\s*${lam}\\s*\\)`).test(own) || new RegExp(`${lam}\\s*\\*[^\\n]*\\+|\\+[^\\n]*${lam}\\s*\\*`).test(own);
    const lamWord = new RegExp(`^${lam}$`);
    const handsOn =
      returnedValues(own).some((values) => values.some((v) => lamWord.test(v))) ||
      new RegExp(`(self\\.\\w+|\\w+\\[['"]\\w+['"]\\])\\s*=\\s*${lam}\\b`).test(own) ||
      calls.some((c) => c !== beta && !BOX.test(c.callee) && !/bbox|box/i.test(c.callee) && c.args.some((a) => lamWord.test(a.text)));
    if (!mixed && !handsOn) {
      problems.push(
        calls.some((c) => LOSS.test(c.callee)) ? 'loss does not mix the two labels' : `returns the images without ${lam} and the shuffled labels`,
      );
    }
    if (!problems.length) continue;
    out.push(finding(CUTMIX_LAMBDA, beta.range, `CutMix in ${fn.name || 'this function'}: ${problems.join('; ')}`));
  }
  return out;
}
