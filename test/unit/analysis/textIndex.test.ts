import { strict as assert } from 'node:assert';
import { TextIndex, utf8ColumnToUtf16 } from '../../../src/analysis/textIndex';

describe('TextIndex', () => {
  const index = new TextIndex('ab\r\ncé😀\n\nz');

  it('maps offsets to positions and back', () => {
    for (let offset = 0; offset <= index.text.length; offset++) {
      assert.equal(index.offsetAt(index.positionAt(offset)), offset);
    }
    assert.deepEqual(index.positionAt(4), { line: 1, character: 0 });
    assert.deepEqual(index.positionAt(index.text.length), { line: 3, character: 1 });
  });

  it('excludes the line ending from line content', () => {
    assert.equal(index.lineText(0), 'ab');
    assert.equal(index.lineText(1), 'cé😀');
    assert.equal(index.lineText(2), '');
    assert.equal(index.lineText(3), 'z');
    assert.equal(index.lineCount, 4);
  });
});

describe('utf8ColumnToUtf16', () => {
  it('is the identity for ASCII', () => {
    assert.equal(utf8ColumnToUtf16('abc', 2), 2);
  });

  it('converts 2-, 3- and 4-byte characters', () => {
    // é: 2 bytes/1 unit, —: 3 bytes/1 unit, 😀: 4 bytes/2 units.
    const line = 'é—😀x';
    assert.equal(utf8ColumnToUtf16(line, 2), 1);
    assert.equal(utf8ColumnToUtf16(line, 5), 2);
    assert.equal(utf8ColumnToUtf16(line, 9), 4);
    assert.equal(utf8ColumnToUtf16(line, 10), 5);
  });

  it('clamps past the end of the line', () => {
    assert.equal(utf8ColumnToUtf16('é', 40), 1);
  });
});
