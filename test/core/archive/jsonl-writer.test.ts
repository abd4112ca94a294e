import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlUpload } from '../../../lambdas/core/archive/jsonl-writer.ts';
import { PartBuffers } from '../../../lambdas/core/archive/s3-upload.ts';
import { BUCKET, type LocalS3, startLocalS3 } from '../../support/archive-fixtures.ts';

describe('JsonlUpload', () => {
  let s3: LocalS3;

  beforeAll(async () => {
    s3 = await startLocalS3();
  });
  afterAll(async () => {
    await s3.close();
  });

  it('stores records and ready lines in order, across many reused batches and a line larger than one', async () => {
    // Prepare
    const key = `data/jsonl-${Date.now()}.jsonl.gz`;
    const writer = new JsonlUpload({ s3: s3.s3, bucket: BUCKET, parts: new PartBuffers(5 * 1024 * 1024) }, key);
    const expected: string[] = [];
    // Act
    for (let i = 0; i < 40_000; i++) {
      const record = { n: i, text: `Ōsaka 🎉 "${i}"\n${'x'.repeat(i % 300)}` };
      const line = JSON.stringify(record);
      if (i % 3 === 0) writer.add(record);
      else writer.addLine(line);
      expected.push(line);
      if (i === 20_000) {
        const huge = JSON.stringify({ huge: 'é'.repeat(1_500_000) });
        writer.addLine(huge);
        expected.push(huge);
      }
      if (i % 500 === 0) await writer.drain();
    }
    const written = await writer.finish();
    // Assess
    const stored = await s3.getBytes(key);
    const text = `${expected.join('\n')}\n`;
    expect(gunzipSync(stored).toString('utf8')).toBe(text);
    expect(written.bytes).toBe(stored.length);
    expect(written.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
  });
});
