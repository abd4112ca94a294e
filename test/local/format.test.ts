import { describe, expect, it } from 'vitest';
import { formatTable } from '../../scripts/local/format.ts';

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
