// Files written into a test's temp folder, creating the folders on the way.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes `text` to `dir/rel` and returns the absolute path. */
export function writeUnder(dir: string, rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}
