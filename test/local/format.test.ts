import { describe, expect, it } from 'vitest';
import { formatCsv, formatTable } from '../../scripts/local/format.ts';

describe('formatTable', () => {
  it('keeps one line per row when a value holds a line break or a tab', () => {
    const out = formatTable({
      columns: ['username', 'family_name'],
      rows: [
        { username: 'user0061yc', family_name: 'Dubois\nde la Tour' },
        { username: 'user0062zz', family_name: 'Tab\there\r\n' },
      ],
    });
    const lines = out.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('Dubois\\nde la Tour');
    expect(lines[3]).toContain('Tab\\there\\r\\n');
  });
});

describe('formatCsv', () => {
  it('quotes fields holding a comma, a quote or a line break, and writes nested values as JSON', () => {
    const out = formatCsv({
      columns: ['a', 'b', 'c'],
      rows: [{ a: 'plain', b: 'two\nlines', c: { k: 'v' } }],
    });
    expect(out).toBe('a,b,c\r\nplain,"two\nlines","{""k"":""v""}"');
  });
});
