/**
 * `npm run bench -- --transitions`: what one local run spends per vendor and per archived report,
 * the inputs of the README's cost section.
 *
 * 1. Starts the built-in simulators and a local S3 in a fresh temporary workspace, as a first
 *    `npm start` does, and runs each vendor's deployed definition (`runLocalPipeline`), one vendor
 *    after the other so every S3 request is counted against the vendor that made it.
 * 2. Counts, from each execution's event history (`transitions-count.ts`), state transitions
 *    (the run's and each item's), Lambda invocations and their local durations, and PutEvents;
 *    from an S3 client middleware, every S3 request by command; and the objects the run left.
 * 3. Prints one markdown table per measure (`--json` for the raw numbers).
 *
 * No timing is asserted anywhere: durations are informative, and local (loopback simulators).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseConfig } from '../lib/config.ts';
import { runLocalPipeline, type VendorRunResult } from '../scripts/local/pipeline.ts';
import { startLocalS3 } from '../scripts/local/s3.ts';
import { startLocalSimulators } from '../simulators/index.ts';
import { countEvent, type ExecutionCount, emptyCount, totalTransitions } from './transitions-count.ts';

export const TRANSITIONS_USAGE = `npm run bench -- --transitions [--vendor <id>]... [--json]

  Runs each vendor once against the built-in simulators in a fresh temporary workspace and
  counts state transitions, Lambda invocations, PutEvents, S3 requests and objects per vendor
  and per archived report.
`;

export interface VendorMeasure {
  readonly vendor: string;
  readonly status: VendorRunResult['status'];
  readonly items: number;
  readonly outcomes: Record<string, number>;
  readonly count: ExecutionCount;
  /** each archived item's own transitions (inside the Map) */
  readonly archivedItemTransitions: number[];
  readonly s3Requests: Map<string, number>;
  /** objects the run left, by the key's first folder */
  readonly objects: Map<string, number>;
}

/** Counts every request the client sends, by command name, into whichever map `into` holds. */
function countRequests(client: S3Client, into: { current: Map<string, number> }): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      into.current.set(name, (into.current.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCountRequests' },
  );
}

async function listKeys(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

function byFolder(keys: readonly string[]): Map<string, number> {
  const folders = new Map<string, number>();
  for (const key of keys) {
    const folder = key.split('/')[0] ?? key;
    folders.set(folder, (folders.get(folder) ?? 0) + 1);
  }
  return folders;
}

export async function measureTransitions(vendors?: readonly string[]): Promise<VendorMeasure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-transitions-'));
  const s3 = await startLocalS3(join(dir, 's3'));
  const simulators = await startLocalSimulators({ only: vendors });
  const requests = { current: new Map<string, number>() };
  countRequests(s3.client, requests);
  try {
    const config = parseConfig(simulators.config, 'built-in simulators', 'local');
    const measures: VendorMeasure[] = [];
    for (const vendor of Object.keys(simulators.config.vendors as Record<string, unknown>)) {
      const before = new Set(await listKeys(s3.client, s3.bucket));
      requests.current = new Map();
      const count = emptyCount();
      const entered = new Map<string, number>();
      const [result] = await runLocalPipeline({
        config,
        scheduledTime: new Date(),
        vendors: [vendor],
        s3,
        tmpDir: join(dir, 'tmp'),
        fastWaitsMs: simulators.fastWaitsMs,
        onStateEvent: (_vendor, event) => countEvent(count, event, entered),
      });
      if (!result) throw new Error(`no run of ${vendor}`);
      const s3Requests = requests.current;
      const after = await listKeys(s3.client, s3.bucket);
      measures.push(vendorMeasure(result, count, s3Requests, byFolder(after.filter((k) => !before.has(k)))));
    }
    return measures;
  } finally {
    await simulators.close();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function vendorMeasure(
  result: VendorRunResult,
  count: ExecutionCount,
  s3Requests: Map<string, number>,
  objects: Map<string, number>,
): VendorMeasure {
  const outcomes: Record<string, number> = {};
  for (const o of result.outcomes) outcomes[o.outcome] = (outcomes[o.outcome] ?? 0) + 1;
  const archivedItemTransitions = result.outcomes.flatMap((o, i) =>
    o.outcome === 'ARCHIVED' ? [count.itemTransitions[i] ?? 0] : [],
  );
  return {
    vendor: result.vendor,
    status: result.status,
    items: result.outcomes.length,
    outcomes,
    count,
    archivedItemTransitions,
    s3Requests,
    objects,
  };
}

const perReport = (n: number, reports: number) => (reports === 0 ? '–' : (n / reports).toFixed(1));

/** Transitions: per execution, per archived item (inside the Map), all-in per archived report. */
export function transitionsTable(measures: readonly VendorMeasure[]): string {
  const rows = measures.map((m) => {
    const archived = m.outcomes.ARCHIVED ?? 0;
    const items = m.archivedItemTransitions;
    const range = items.length === 0 ? '–' : `${Math.min(...items)}–${Math.max(...items)}`;
    const total = totalTransitions(m.count);
    const outcomes = Object.entries(m.outcomes)
      .map(([k, v]) => `${v} ${k.toLowerCase()}`)
      .join(', ');
    return `| ${m.vendor} | ${m.status} | ${outcomes || 'none'} | ${total} | ${m.count.runTransitions} | ${perReport(
      items.reduce((a, b) => a + b, 0),
      items.length,
    )} (${range}) | ${perReport(total, archived)} |`;
  });
  return [
    '| vendor | run | items | transitions | of which run-level | per archived item, in the Map (range) | all-in per archived report |',
    '| :--- | :--- | :--- | ---: | ---: | :--- | ---: |',
    ...rows,
  ].join('\n');
}

/** Lambda invocations, their local time, PutEvents and S3 requests and objects per archived report. */
export function requestsTable(measures: readonly VendorMeasure[]): string {
  const rows = measures.map((m) => {
    const archived = m.outcomes.ARCHIVED ?? 0;
    const lambda = [...m.count.lambda.entries()].map(
      ([fn, l]) => `${fn} ${l.invocations} (${Math.round(l.ms / Math.max(l.invocations, 1))} ms)`,
    );
    const invocations = [...m.count.lambda.values()].reduce((a, l) => a + l.invocations, 0);
    const requests = [...m.s3Requests.entries()].map(([c, n]) => `${c.replace(/Command$/, '')} ${n}`);
    const objects = [...m.objects.entries()].map(([f, n]) => `${f} ${n}`);
    return `| ${m.vendor} | ${invocations} (${perReport(invocations, archived)}) | ${lambda.join(', ')} | ${m.count.putEvents} | ${requests.join(', ')} | ${objects.join(', ')} |`;
  });
  return [
    '| vendor | Lambda invocations (per archived report) | by function (mean local ms) | PutEvents | S3 requests | objects written |',
    '| :--- | :--- | :--- | ---: | :--- | :--- |',
    ...rows,
  ].join('\n');
}

/** Transitions by state name, to see where they go. */
export function byStateTable(measures: readonly VendorMeasure[]): string {
  const names = [...new Set(measures.flatMap((m) => [...m.count.byState.keys()]))];
  return [
    `| state | ${measures.map((m) => m.vendor).join(' | ')} |`,
    `| :--- | ${measures.map(() => '---:').join(' | ')} |`,
    ...names.map((n) => `| ${n} | ${measures.map((m) => m.count.byState.get(n) ?? 0).join(' | ')} |`),
  ].join('\n');
}

function asJson(measures: readonly VendorMeasure[]): string {
  return JSON.stringify(
    measures.map((m) => ({
      ...m,
      transitions: totalTransitions(m.count),
      count: { ...m.count, byState: Object.fromEntries(m.count.byState), lambda: Object.fromEntries(m.count.lambda) },
      s3Requests: Object.fromEntries(m.s3Requests),
      objects: Object.fromEntries(m.objects),
    })),
    null,
    2,
  );
}

/** The `--transitions` mode of `npm run bench`; returns the exit code. */
export async function transitionsMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      transitions: { type: 'boolean' },
      vendor: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(TRANSITIONS_USAGE);
    return 0;
  }
  const measures = await measureTransitions(values.vendor);
  if (values.json) {
    console.log(asJson(measures));
    return 0;
  }
  console.log(
    `${transitionsTable(measures)}\n\n${requestsTable(measures)}\n\nTransitions by state:\n\n${byStateTable(measures)}`,
  );
  return 0;
}
