import { strict as assert } from 'node:assert';
import { applyEdits } from '../../../src/analysis/applyEdits';
import { range } from './fixtures';

describe('applyEdits', () => {
  it('returns the text unchanged for no edits', () => {
    assert.equal(applyEdits('a\nb', []), 'a\nb');
  });

  it('applies replacements against the original positions, in any order', () => {
    const text = 'alpha beta\ngamma delta\n';
    const out = applyEdits(text, [
      { range: range(1, 6, 1, 11), newText: 'D' },
      { range: range(0, 0, 0, 5), newText: 'A' },
    ]);
    assert.equal(out, 'A beta\ngamma D\n');
  });

  it('inserts at the same position in the given order, before a replacement starting there', () => {
    const out = applyEdits('xy', [
      { range: range(0, 1, 0, 2), newText: 'Y' },
      { range: range(0, 1, 0, 1), newText: '1' },
      { range: range(0, 1, 0, 1), newText: '2' },
    ]);
    assert.equal(out, 'x12Y');
  });

  it('counts characters in UTF-16 code units, like VS Code', () => {
    // 😀 is two code units, é one.
    const out = applyEdits('é😀x\n', [{ range: range(0, 3, 0, 4), newText: 'z' }]);
    assert.equal(out, 'é😀z\n');
  });

  it('spans lines and keeps CRLF line endings', () => {
    const out = applyEdits('a\r\nb\r\nc', [{ range: range(0, 1, 2, 0), newText: '-' }]);
    assert.equal(out, 'a-c');
  });

  it('clamps positions past the end of a line or the text', () => {
    assert.equal(applyEdits('ab\ncd', [{ range: range(0, 99, 0, 99), newText: '!' }]), 'ab\n!cd');
    assert.equal(applyEdits('ab', [{ range: range(5, 0, 5, 0), newText: '!' }]), 'ab!');
  });

  it('throws on overlapping edits', () => {
    assert.throws(
      () =>
        applyEdits('abcdef', [
          { range: range(0, 0, 0, 3), newText: '' },
          { range: range(0, 2, 0, 4), newText: '' },
        ]),
      /overlapping/,
    );
  });
});
