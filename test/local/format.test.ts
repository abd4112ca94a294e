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

  it('lines up the next column after names a terminal shows two columns per character', () => {
    // Prepare: the simulators' PingOne users include 山田 and Zoë written with a combining mark
    const result = {
      columns: ['given_name', 'family_name'],
      rows: [
        { given_name: '山田', family_name: 'Tanaka' },
        { given_name: 'Zoe\u0308', family_name: 'Lee' },
        { given_name: 'Mary-Kate', family_name: 'Nguyễn' },
      ],
    };
    // Act
    const lines = formatTable(result)
      .split('\n')
      .map((l) => l.trimEnd());
    // Assess: every family name starts at the same terminal column (山 and 田 take two each)
    expect(lines.slice(2)).toEqual(['山田        Tanaka', 'Zoe\u0308         Lee', 'Mary-Kate   Nguyễn']);
  });

  it('cuts a long value at 60 terminal columns without splitting a character', () => {
    const out = formatTable({ columns: ['v'], rows: [{ v: '字'.repeat(40) }, { v: '😀'.repeat(40) }] });
    const [, , wide, emoji] = out.split('\n');
    expect(wide).toBe('字'.repeat(30));
    expect(emoji).toBe('😀'.repeat(30));
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
