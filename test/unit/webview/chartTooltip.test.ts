import * as assert from 'node:assert/strict';
import { binText, nextIndex, tooltipText } from '../../../webview/dashboard/chartTooltip';
import { sectionHelp } from '../../../webview/dashboard/sectionHelp';

describe('dashboard: chart tooltips', () => {
  it('names the x value and every series that has a value there', () => {
    assert.equal(
      tooltipText('epoch', '12', [
        { label: 'clean train', value: '95.1%' },
        { label: 'corrupted train', value: '34.0%' },
        { label: 'test', value: '–' },
      ]),
      'epoch 12: clean train 95.1%, corrupted train 34.0%',
    );
    assert.equal(tooltipText('score', binText(0.45, 0.48), [{ label: 'units', value: '7' }]), 'score 0.450–0.480: units 7');
  });

  it('says nothing where no series has a value', () => {
    assert.equal(tooltipText('epoch', '3', [{ label: 'test loss', value: undefined }, { label: 'loss', value: '–' }]), undefined);
  });

  it('moves with the arrow, page and Home/End keys, clamped, starting at the last point', () => {
    assert.equal(nextIndex('ArrowLeft', null, 50), 49);
    assert.equal(nextIndex('ArrowRight', undefined, 50), 49);
    assert.equal(nextIndex('ArrowLeft', 10, 50), 9);
    assert.equal(nextIndex('ArrowLeft', 0, 50), 0);
    assert.equal(nextIndex('ArrowRight', 49, 50), 49);
    assert.equal(nextIndex('PageUp', 10, 100), 0);
    assert.equal(nextIndex('PageDown', 95, 100), 99);
    assert.equal(nextIndex('Home', 30, 50), 0);
    assert.equal(nextIndex('End', 3, 50), 49);
    assert.equal(nextIndex('Enter', 3, 50), undefined);
    assert.equal(nextIndex('ArrowLeft', null, 0), undefined);
  });
});

describe('dashboard: section help', () => {
  it('explains every section and links its method, the paper first', () => {
    for (const key of ['accuracy', 'neurons', 'pruning', 'uncertainty', 'labelErrors', 'nested', 'coteaching']) {
      const h = sectionHelp[key];
      assert.ok(h, key);
      assert.ok(h.method.length > 60, `${key}: ${h.method}`);
      assert.ok(h.links.length >= 1, key);
      assert.match(h.links[0].href, /^https:\/\/arxiv\.org\/abs\/\d{4}\.\d{4,5}$/, key);
      for (const l of h.links) assert.match(l.href, /^https:\/\//, `${key}: ${l.href}`);
    }
  });
});
