// Code lens titles. They match the command titles in package.json (Title Case, "…" where the
// command asks something before acting); the probe lens also names the framework.
import { FRAMEWORK_NAMES, type Framework } from '../modelGraph';

export const ADD_REGULARIZER_TITLE = 'Add Regularizer…';
/** The probe command's title in package.json. */
export const PROBE_COMMAND_TITLE = 'Probe this Model…';

/** "Probe this PyTorch Model…": the command title with the model's framework. */
export function probeLensTitle(framework: Framework): string {
  return PROBE_COMMAND_TITLE.replace('Model', `${FRAMEWORK_NAMES[framework]} Model`);
}
