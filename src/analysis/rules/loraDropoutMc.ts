import type { ModelGraph } from '../modelGraph';
import type { Finding } from '../textTypes';
import { addKeywordArg, finding, hasMcSampling, replace, type RuleInfo } from './ruleKit';
import { ruleDocsUrl } from './ruleDocs';

export const LORA_DROPOUT_MC: RuleInfo = {
  id: 'lora-dropout-zero-mc',
  title: 'lora_dropout 0 with MC-dropout sampling',
  docsUrl: ruleDocsUrl('lora-dropout-zero-mc'),
  source: 'https://huggingface.co/docs/peft/package_reference/lora#peft.LoraConfig',
  defaultSeverity: 'warning',
  settingKey: 'diagnostics.loraDropoutMc.severity',
};

/** PEFT's lora_dropout defaults to 0.0; MC dropout through LoRA adapters then has nothing to sample (STAR uses 0.1). */
export function checkLoraDropoutMc(graph: ModelGraph): Finding[] {
  if (!graph.loraConfigs.length || !hasMcSampling(graph)) return [];
  const out: Finding[] = [];
  for (const cfg of graph.loraConfigs) {
    if (cfg.dropout !== 0) continue;
    const edit = cfg.dropoutArg ? replace(graph, cfg.dropoutArg, '0.1') : addKeywordArg(graph, cfg.call, 'lora_dropout=0.1');
    out.push(
      finding(
        LORA_DROPOUT_MC,
        cfg.dropoutArg?.range ?? cfg.call.range,
        `${cfg.dropoutArg ? `lora_dropout=${cfg.dropoutArg.text}` : 'lora_dropout unset (0.0)'} but this file samples MC dropout: the adapters never vary`,
        edit ? [{ title: 'Set lora_dropout=0.1', edits: [edit] }] : [],
      ),
    );
  }
  return out;
}
