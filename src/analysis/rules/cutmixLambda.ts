import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { callsIn, finding, type RuleInfo } from './ruleKit';

export const CUTMIX_LAMBDA: RuleInfo = {
  id: 'cutmix-lambda',
  title: 'CutMix without lambda recomputation or label mixing',
  docsUrl: 'https://arxiv.org/abs/1905.04899',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.cutmixLambda.severity',
};

const BOX = /rand_bbox|bbx1|bby1|cut_rat|cut_w|cutmix|cut_mix|randBbox|cutW/i;

/**
 * CutMix (Yun et al. 2019): after clipping the box to the image, lambda must be recomputed
 * from the pasted area, and the loss mixes both labels with it; otherwise targets do not match
 * the pixels.
 */
export function checkCutmixLambda(graph: ModelGraph): Finding[] {
  const out: Finding[] = [];
  for (const fn of graph.functions) {
    const body = graph.text.slice(fn.start, fn.end);
    if (!BOX.test(body) && !BOX.test(fn.name)) continue;
    const beta = callsIn(graph, fn.start, fn.end).find((c) => /(^|\.)(beta|Beta|betavariate)$/.test(c.callee) && c.assignedTo);
    if (!beta || !/^[A-Za-z_]\w*$/.test(beta.assignedTo!)) continue;
    const lam = beta.assignedTo!;
    const assigns = body.match(new RegExp(`(^|[^\\w.])${lam}\\s*=[^=]`, 'gm'))?.length ?? 0;
    const problems: string[] = [];
    if (assigns < 2) problems.push(`${lam} is never recomputed from the clipped box area (${lam} = 1 - box_area / image_area), so the label weights do not match the pasted pixels`);
    const mixed = new RegExp(`\\(\\s*1\\.?0?\\s*-\\s*${lam}\\s*\\)`).test(body) || new RegExp(`${lam}\\s*\\*[^\\n]*\\+|\\+[^\\n]*${lam}\\s*\\*`).test(body);
    if (!mixed) problems.push(`the loss does not mix the two labels (loss = ${lam} * CE(y_a) + (1 - ${lam}) * CE(y_b))`);
    if (!problems.length) continue;
    out.push(finding(CUTMIX_LAMBDA, beta.range, `CutMix in ${fn.name || 'this function'}: ${problems.join('; and ')} (Yun et al., ICCV 2019).`));
  }
  return out;
}
