// Glob patterns of `exclude` in the lint config and of .gitignore lines, as gitignore reads
// them: a pattern without a slash matches a name at any depth, one with a slash is anchored
// at the folder it is relative to, `**` spans folders, and a match on a folder covers all
// below it.

/** A matcher for paths relative to the pattern's folder, with `/` separators. */
export function globMatcher(pattern: string): (relPath: string) => boolean {
  const re = globToRegExp(pattern);
  return (relPath) => re.test(relPath);
}

export function globToRegExp(pattern: string): RegExp {
  let p = pattern.trim().replace(/\\/g, '/');
  const anchored = p.startsWith('/') || p.replace(/\/+$/, '').includes('/');
  p = p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (!anchored) p = `**/${p}`;
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '*' && p[i + 1] === '*') {
      const slashAfter = p[i + 2] === '/';
      out += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        const body = p.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}(?:/.*)?$`);
}
