import * as assert from 'node:assert/strict';
import { reportHtml, scriptSafeJson } from '../../../src/host/export/htmlReport';
import type { RunView } from '../../../src/protocol/webviewMessages';

const run: RunView = {
  id: '20250101-000000-abcd',
  name: 'evil </script><script>alert(1)</script> name',
  status: 'finished',
  totalEpochs: 1,
  startedAt: '2025-01-01T00:00:00Z',
  events: [{ type: 'log', level: 'info', message: '</script><!-- x' }],
};

describe('HTML report export', () => {
  it('inlines the data so no string can close the script element', () => {
    const json = scriptSafeJson(run);
    assert.ok(!json.includes('</script'));
    assert.ok(!json.includes('<!--'));
    assert.deepEqual(JSON.parse(json), run);
  });

  it('is one self-contained file: inline script, CSS and data, no external URL', () => {
    const html = reportHtml(run, { script: 'console.log("</script>")', css: 'body{color:red}' });
    assert.equal((html.match(/<\/script>/g) ?? []).length, 3, 'exactly the three script elements close');
    assert.ok(!/\ssrc=|href=/.test(html), 'no external resources');
    assert.match(html, /data-mode="report"/);
    assert.match(html, /body\{color:red\}/);
    assert.match(html, /<title>RegLens report: evil &#60;\/script&#62;/);
  });
});
