// Where a rule is explained: its section of docs/rules.md at the installed version, so the
// one-line diagnostic can link to the explanation and the citation (like Ruff and Pylance do).
import { repository, version } from '../../../package.json';

/** The repository's web address from package.json (`git+https://…/x.git` -> `https://…/x`). */
export function repositoryUrl(repo: string | { url: string } = repository): string {
  const url = typeof repo === 'string' ? repo : repo.url;
  return url.replace(/^git\+/, '').replace(/\.git$/, '').replace(/\/$/, '');
}

/** `<repository>/blob/v<version>/docs/rules.md#<rule-id>`: the rule's section (its heading is the id). */
export function ruleDocsUrl(ruleId: string, repo: string = repositoryUrl(), at: string = version): string {
  return `${repo}/blob/v${at}/docs/rules.md#${ruleId}`;
}
