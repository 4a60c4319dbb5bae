// Every rule, in the order findings are reported. The host reads severity setting keys from here.
import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { ADAM_WEIGHT_DECAY, checkAdamWeightDecay } from './adamWeightDecay';
import { checkCutmixLambda, CUTMIX_LAMBDA } from './cutmixLambda';
import { checkDropoutBeforeBatchNormGraph, DROPOUT_BEFORE_BATCHNORM_RULE } from './dropoutBeforeBatchNorm';
import { checkDropoutRateRange, DROPOUT_RATE_RANGE } from './dropoutRateRange';
import { checkFunctionalDropoutTraining, FUNCTIONAL_DROPOUT_TRAINING } from './functionalDropoutTraining';
import { checkInferenceWithoutEval, INFERENCE_WITHOUT_EVAL } from './inferenceWithoutEval';
import { checkLargeDenseHead, LARGE_DENSE_HEAD } from './largeDenseHead';
import { checkLoraDropoutMc, LORA_DROPOUT_MC } from './loraDropoutMc';
import { checkMcDropoutBatchNorm, MC_DROPOUT_BATCHNORM } from './mcDropoutBatchNorm';
import { checkMcLoopNoVariance, MC_LOOP_NO_VARIANCE } from './mcLoopNoVariance';
import { checkMultiEpochNoDropout, MULTI_EPOCH_NO_DROPOUT } from './multiEpochNoDropout';
import { checkMultiSampleDropoutLogits, MULTI_SAMPLE_DROPOUT_LOGITS } from './multiSampleDropoutLogits';
import type { RuleInfo, RuleOptions } from './ruleKit';
import { checkWeightDecayOnBiasNorm, WEIGHT_DECAY_ON_BIAS_NORM } from './weightDecayOnBiasNorm';

export interface GraphRule {
  info: RuleInfo;
  check(graph: ModelGraph, options: RuleOptions): Finding[];
}

export const GRAPH_RULES: readonly GraphRule[] = [
  { info: DROPOUT_BEFORE_BATCHNORM_RULE, check: checkDropoutBeforeBatchNormGraph },
  { info: DROPOUT_RATE_RANGE, check: checkDropoutRateRange },
  { info: FUNCTIONAL_DROPOUT_TRAINING, check: checkFunctionalDropoutTraining },
  { info: INFERENCE_WITHOUT_EVAL, check: checkInferenceWithoutEval },
  { info: ADAM_WEIGHT_DECAY, check: checkAdamWeightDecay },
  { info: WEIGHT_DECAY_ON_BIAS_NORM, check: checkWeightDecayOnBiasNorm },
  { info: MC_DROPOUT_BATCHNORM, check: checkMcDropoutBatchNorm },
  { info: MC_LOOP_NO_VARIANCE, check: checkMcLoopNoVariance },
  { info: LORA_DROPOUT_MC, check: checkLoraDropoutMc },
  { info: MULTI_SAMPLE_DROPOUT_LOGITS, check: checkMultiSampleDropoutLogits },
  { info: CUTMIX_LAMBDA, check: checkCutmixLambda },
  { info: LARGE_DENSE_HEAD, check: checkLargeDenseHead },
  { info: MULTI_EPOCH_NO_DROPOUT, check: checkMultiEpochNoDropout },
];

/** Rule id -> severity setting key under `reglens.`. */
export const RULE_SETTING_KEYS: Readonly<Record<string, string>> = Object.fromEntries(GRAPH_RULES.map((r) => [r.info.id, r.info.settingKey]));

export function runGraphRules(graph: ModelGraph, options: RuleOptions): Finding[] {
  const out: Finding[] = [];
  for (const rule of GRAPH_RULES) {
    try {
      out.push(...rule.check(graph, options));
    } catch {
      // One broken heuristic must not take the other rules down with it.
    }
  }
  return out;
}
