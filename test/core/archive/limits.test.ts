import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ExtractBudget, ExtractMeter } from '../../../lambdas/core/archive/limits.ts';
import { bulkCsv, sha256 } from '../../support/archive-fixtures.ts';

describe('ExtractMeter', () => {
  it('checks limits before a chunk goes on and verifies the declared size and CRC-32 at the end', () => {
    const data = Buffer.from(bulkCsv(200, 4));
    const declared = { declaredSize: data.length, declaredCrc32: crc32(data) };
    const meter = new ExtractMeter({ what: 'data', budget: new ExtractBudget(1e9), maxRatio: 100, ...declared });
    meter.take(data.subarray(0, 1000));
    meter.take(data.subarray(1000));
    expect(meter.finish()).toEqual({ bytes: data.length, sha256: sha256(data), crc32: crc32(data) });

    const short = new ExtractMeter({ what: 'data', budget: new ExtractBudget(1e9), maxRatio: 100, ...declared });
    short.take(data.subarray(1));
    expect(() => short.finish()).toThrow(/holds \d+ bytes; its header declares/);

    const flipped = Buffer.from(data);
    flipped[10]! ^= 1;
    const damaged = new ExtractMeter({ what: 'data', budget: new ExtractBudget(1e9), maxRatio: 100, ...declared });
    damaged.take(flipped);
    expect(() => damaged.finish()).toThrow(/fails its CRC-32 check/);

    const budget = new ExtractBudget(100);
    const over = new ExtractMeter({ what: 'data', budget, maxRatio: 100 });
    expect(() => over.take(data)).toThrow(/exceeds the limit of 100 bytes/);
  });
});
