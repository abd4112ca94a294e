/**
 * A small archive of every registered vendor, written by hand through each report's `toRecord`
 * and published with a manifest, dated relative to today so that the views and saved queries
 * bounded by `current_date` see it. Each fact the tests assert is visible here: the expected
 * answers are counted from these rows by hand, not from the engine's output.
 *
 * Days (`day(n)` is n days before today, UTC):
 * - PingOne: env-a on day 1 (newest), day 3 and day 20; env-b on day 3 only; env-c on day 20
 *   only (outside the 14-day look-back).
 * - RSA: acme users and hardware tokens on day 1; globex users on day 1 without a token report.
 * - CSP (tenant alice, user alice@example.com): MFA disabled then enabled on day 2; enabled and
 *   deactivated in the same millisecond on day 4; failures on day 1, day 7 and day 9.
 * - OpenAthens (tenant uni): on day 1, acc-x fails 6 bad passwords (from 192.0.2.7), acc-y 2;
 *   on day 40, acc-z fails 7.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { definitions } from '../../lambdas/connectors/registry.ts';
import { addDays, utcDate } from '../../lambdas/core/dates.ts';
import { dataKey } from '../../lambdas/core/layout.ts';
import type { TableDefinition } from '../../lambdas/core/tables.ts';
import { type ArchiveCatalog, catalogTables, openArchiveCatalog } from '../../scripts/local/catalog.ts';
import { S3RVER_SUFFIX } from '../../scripts/local/s3.ts';
import { publishDataObject } from '../support/published.ts';

const BUCKET = 'archive';
const ATTEMPT = '20261201T020000Z-00000001';

/**
 * The UTC date `n` days before today, today read once, so the fixture and the assertions agree on
 * it (a run across midnight UTC may still see the SQL's `current_date` move on).
 */
const TODAY = utcDate(new Date());
export const day = (n: number): string => addDays(TODAY, -n);

type Raw = Record<string, unknown>;

function pingOneUser(userId: string, username: string, mfaEnabled: boolean, devices: Raw[]): Raw[] {
  const user = { userId, environmentId: 'env', username, mfaEnabled: String(mfaEnabled) };
  return devices.length === 0 ? [user] : devices.map((device) => ({ ...user, ...device }));
}

const PINGONE_LATEST: Raw[] = [
  ...pingOneUser('u1', 'alice', true, [
    { deviceId: 'd1', deviceType: 'SMS', phone: '+4420000001' },
    { deviceId: 'd2', deviceType: 'EMAIL', email: 'alice@example.com' },
  ]),
  ...pingOneUser('u2', 'bob', false, []),
  ...pingOneUser('u3', 'carol', false, [
    { deviceId: 'd3', deviceType: 'TOTP' },
    { deviceId: 'd4', deviceType: 'TOTP' },
  ]),
];

function cspEvent(id: string, action: string, at: string, details?: Raw, username = 'alice@example.com'): Raw {
  const event = { eventId: id, action, eventDate: Date.parse(at), username, details };
  return { tenantLabel: 'alice@example.com', event };
}

/** OpenAthens' `dd/MM/yyyyTHH:mm:ss` for a time on `date`. */
const oaTime = (date: string, time: string) => `${date.slice(8)}/${date.slice(5, 7)}/${date.slice(0, 4)}T${time}`;

function badPasswords(date: string, account: string, count: number, ip: string): Raw[] {
  return Array.from({ length: count }, (_, i) => ({
    date: oaTime(date, `08:00:0${i}`),
    action: 'LOCAL_AUTHENTICATE',
    status: 'ACCOUNT_ERROR_BAD_PASSWORD',
    'account.accountid': account,
    'request.ipaddress': ip,
  }));
}

interface Partition {
  readonly vendor: string;
  readonly report: string;
  readonly tenant: string;
  readonly date: string;
  readonly rows: Raw[];
}

function partitions(): Partition[] {
  const p = (vendor: string, report: string, tenant: string, date: string, rows: Raw[]) => ({
    vendor,
    report,
    tenant,
    date,
    rows,
  });
  return [
    p('pingone', 'mfa_devices', 'env-a', day(1), PINGONE_LATEST),
    p('pingone', 'mfa_devices', 'env-a', day(3), pingOneUser('u9', 'old', false, [])),
    p('pingone', 'mfa_devices', 'env-a', day(20), pingOneUser('u8', 'older', false, [])),
    p(
      'pingone',
      'mfa_devices',
      'env-b',
      day(3),
      pingOneUser('b1', 'dave', true, [{ deviceId: 'b', deviceType: 'FIDO2' }]),
    ),
    p('pingone', 'mfa_devices', 'env-c', day(20), pingOneUser('c1', 'erin', false, [])),
    p('rsa', 'users', 'acme', day(1), [
      { Username: 'alice', Email: 'alice@example.com', 'Device Registered': 'Yes', 'SMS Registered': 'Yes' },
      { Username: 'Bob', Email: 'bob@example.com', 'Device Registered': 'No', 'SMS Registered': 'No' },
      { Username: 'carol', Email: '', 'Device Registered': 'No', 'FIDO Registered': 'No' },
    ]),
    p('rsa', 'hardware_tokens', 'acme', day(1), [
      { 'Serial Number': '000000000001', Username: 'bob ', Status: 'Assigned' },
      { 'Serial Number': '000000000002', Username: '', Status: 'Unassigned' },
    ]),
    p('rsa', 'users', 'globex', day(1), [{ Username: 'frank', 'Device Registered': 'Yes' }]),
    p('csp', 'mfa_audit', 'alice', day(1), [
      cspEvent('e1', 'MFA_AUTHENTICATION_FAILURE', `${day(1)}T09:00:00Z`, { ipAddress: '198.51.100.4' }),
      cspEvent('e2', 'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE', `${day(1)}T10:00:00Z`),
      cspEvent('e3', 'MFA_AUTHENTICATION_SUCCESS', `${day(1)}T11:00:00Z`),
    ]),
    p('csp', 'mfa_audit', 'alice', day(2), [
      cspEvent('e4', 'MFA_DISABLE', `${day(2)}T10:00:00Z`),
      cspEvent('e5', 'MFA_ENABLE', `${day(2)}T12:00:00Z`),
    ]),
    p('csp', 'mfa_audit', 'alice', day(4), [
      cspEvent('e6', 'MFA_ENABLE', `${day(4)}T09:00:00Z`),
      // an admin enabled dave's MFA in alice's audit: dave's latest change is older than alice's
      cspEvent('e10', 'MFA_ENABLE', `${day(4)}T08:00:00Z`, undefined, 'dave@example.com'),
      cspEvent('e7', 'MFA_DEACTIVATION', `${day(4)}T09:00:00Z`),
    ]),
    p('csp', 'mfa_audit', 'alice', day(7), [cspEvent('e9', 'MFA_AUTHENTICATION_FAILURE', `${day(7)}T23:00:00Z`)]),
    p('csp', 'mfa_audit', 'alice', day(9), [cspEvent('e8', 'MFA_AUTHENTICATION_FAILURE', `${day(9)}T09:00:00Z`)]),
    p('openathens', 'raw_statistics', 'uni', day(1), [
      ...badPasswords(day(1), 'acc-x', 6, '192.0.2.7'),
      ...badPasswords(day(1), 'acc-y', 2, ''),
      { date: oaTime(day(1), '09:00:00'), action: 'AUTHENTICATE', status: 'SUCCESS', 'account.accountid': 'acc-y' },
      { date: oaTime(day(1), '09:30:00'), action: 'FEDERATED_TRANSFER', status: 'FAILURE_RESTRICTIVE' },
    ]),
    p('openathens', 'raw_statistics', 'uni', day(40), badPasswords(day(40), 'acc-z', 7, '192.0.2.9')),
  ];
}

/** Every registered report's table, the manifests, outcomes and expectations: what the views read. */
export function allTables(): TableDefinition[] {
  return catalogTables();
}

function write(bucketDir: string, partition: Partition): void {
  const definition = definitions.find((d) => d.vendor === partition.vendor);
  const report = definition?.reports.find((r) => r.name === partition.report);
  if (!report) throw new Error(`no report ${partition.vendor}/${partition.report}`);
  const key = dataKey(partition, ATTEMPT);
  const path = join(bucketDir, `${key}${S3RVER_SUFFIX}`);
  mkdirSync(dirname(path), { recursive: true });
  const lines = partition.rows.map((raw) => JSON.stringify(report.toRecord(raw)));
  writeFileSync(path, gzipSync(`${lines.join('\n')}\n`));
  publishDataObject(bucketDir, partition, key);
}

export interface AuditorArchive {
  readonly catalog: ArchiveCatalog;
  close(): void;
}

/** Writes the fixture archive into a temporary directory and opens the local catalog over it. */
export async function openAuditorArchive(): Promise<AuditorArchive> {
  const dir = mkdtempSync(join(tmpdir(), 'auditor-archive-'));
  for (const partition of partitions()) write(join(dir, BUCKET), partition);
  const catalog = await openArchiveCatalog({ s3Directory: dir, bucket: BUCKET, tables: allTables() });
  return {
    catalog,
    close() {
      catalog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
