// Command-line parsing shared by the CLI's commands: node:util parseArgs, with its errors as
// UsageError in this CLI's words (exit code 2 in every command).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options and positionals of `argv`; throws UsageError for an unknown option or a missing value. */
export function parseCommandLine<const O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true as const, options });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err as NodeJS.ErrnoException));
  }
}

/** node:util parseArgs's errors, in this CLI's words (its own end in a quoted `-- "--x"` hint). */
function parseArgsMessage(err: NodeJS.ErrnoException): string {
  const option = /'(-[^' ]*)/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /argument missing/.test(err.message) ? `option ${option} needs a value` : `option ${option} takes no value`;
  }
  return err.message;
}
