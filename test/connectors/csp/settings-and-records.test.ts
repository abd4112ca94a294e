import { describe, expect, it } from 'vitest';
import { CATCH_UP_DAYS, cspDefinition } from '../../../lambdas/connectors/csp/definition.ts';
import { MFA_AUDIT_TABLE, mfaAuditRecord, mfaAuditReport } from '../../../lambdas/connectors/csp/records.ts';
import { CspCredentialsSchema, CspSectionSchema } from '../../../lambdas/connectors/csp/settings.ts';
import { MalformedJsonError } from '../../../lambdas/core/errors.ts';
import { localVendorSection, startCspSimulator } from '../../../simulators/csp/server.ts';

const tenant = { id: 'alice', since: '2026-01-01', label: 'alice@example.com', secretName: 'csp/alice' };

describe('config section', () => {
  it('applies the documented defaults', () => {
    const section = CspSectionSchema.parse({ tenants: [tenant] });
    expect(section).toMatchObject({
      baseUrl: 'https://console.cloud.vmware.com',
      reports: ['mfa_audit'],
      pageLimit: 100,
      maxRecordsPerWindow: 10_000,
      settleMinutes: 5,
      schedule: 'cron(30 1 * * ? *)',
    });
  });

  it.each([
    ['a tenant without label', { tenants: [{ id: 'a', since: '2026-01-01', secretName: 's' }] }, /label/],
    [
      '21 device names',
      { tenants: [{ ...tenant, deviceNames: Array.from({ length: 21 }, (_, i) => `d${i}`) }] },
      /deviceNames/,
    ],
    ['21 event ids', { tenants: [{ ...tenant, eventIds: Array.from({ length: 21 }, (_, i) => `e${i}`) }] }, /eventIds/],
    ['an unknown action', { tenants: [{ ...tenant, actions: ['MFA_BYPASS'] }] }, /actions/],
    ['a misspelt tenant key', { tenants: [{ ...tenant, deviceName: ['x'] }] }, /deviceName/],
    [
      'a record cap below pageLimit',
      { tenants: [tenant], pageLimit: 100, maxRecordsPerWindow: 50 },
      /maxRecordsPerWindow/,
    ],
    ['two credential sources', { tenants: [{ ...tenant, credentials: { apiToken: 'x' } }] }, /exactly one/],
  ])('refuses %s', (_name, raw, pattern) => {
    const result = CspSectionSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(pattern);
  });

  it("accepts the simulator's local section", async () => {
    const sim = await startCspSimulator();
    try {
      const section = CspSectionSchema.parse(localVendorSection(sim));
      expect(section.tenants.map((t) => t.id)).toEqual(['alice', 'bjorn', 'chen']);
      expect(section.tenants[1]?.label).toBe('bjørn.ødegård@example.no');
    } finally {
      await sim.close();
    }
  });
});

describe('credentials', () => {
  it('is { apiToken }', () => {
    expect(CspCredentialsSchema.parse({ apiToken: ' abc ' })).toEqual({ apiToken: 'abc' });
  });

  it('names the missing field without echoing values', () => {
    const result = CspCredentialsSchema.safeParse({ api_token: 'secret-value-123' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('apiToken');
    expect(JSON.stringify(result.error?.issues)).not.toContain('secret-value-123');
  });
});

describe('planDates', () => {
  const scheduledTime = new Date('2026-11-20T01:30:00Z');

  it('takes the requested date as is', () => {
    expect(cspDefinition.planDates?.({ scheduledTime, requestedDate: '2026-01-02', archived: new Set() })).toEqual([
      '2026-01-02',
    ]);
  });

  it('covers yesterday plus the not yet archived days of the last week, oldest first', () => {
    const archived = new Set(['2026-11-13', '2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19']);
    expect(cspDefinition.planDates?.({ scheduledTime, archived })).toEqual(['2026-11-14', '2026-11-19']);
    expect(cspDefinition.planDates?.({ scheduledTime, archived: new Set() })).toHaveLength(CATCH_UP_DAYS);
  });
});

describe('mfa_audit records', () => {
  const event = {
    action: 'MFA_DEVICE_NAME_UPDATE',
    details: {
      deviceName: 'Pixel 8 "work",\nsecond line',
      previousDeviceName: '山田のiPad',
      codes: 10,
      flags: { a: true },
      empty: '',
      gone: null,
    },
    eventDate: 1_763_424_000_123,
    eventId: '0f8e3c1a-1111-4222-8333-444455556666',
    modifiedBy: 'org-admin@example.com',
    username: 'bjørn.ødegård@example.no',
  };

  it('maps an event with hostile values to typed columns, keeping every detail', () => {
    expect(mfaAuditRecord({ tenantLabel: 'bjørn, "B"', event })).toEqual({
      event_id: event.eventId,
      action: 'MFA_DEVICE_NAME_UPDATE',
      event_time: '2025-11-18 00:00:00.123',
      event_date_ms: 1_763_424_000_123,
      username: 'bjørn.ødegård@example.no',
      modified_by: 'org-admin@example.com',
      device_name: 'Pixel 8 "work",\nsecond line',
      tenant_label: 'bjørn, "B"',
      details: { previousDeviceName: '山田のiPad', codes: '10', flags: '{"a":true}', empty: '', gone: 'null' },
    });
  });

  it('takes missing details, modifiedBy and deviceName as nulls and an empty map', () => {
    const record = mfaAuditRecord({
      tenantLabel: 'x',
      event: { action: 'AUTHENTICATION_WITHOUT_MFA', eventDate: '0', eventId: 'id-1', username: 'u', modifiedBy: null },
    });
    expect(record).toMatchObject({
      event_time: '1970-01-01 00:00:00.000',
      modified_by: null,
      device_name: null,
      details: {},
    });
  });

  it.each([
    ['eventDate', { eventId: 'a', eventDate: '2026-11-18T00:00:00Z' }],
    ['eventDate', { eventId: 'a', eventDate: -5 }],
    ['eventDate', { eventId: 'a', eventDate: 1.5 }],
    ['eventDate', { eventId: 'a' }],
    ['eventId', { eventDate: 1 }],
    ['details', { eventId: 'a', eventDate: 1, details: ['x'] }],
    ['username', { eventId: 'a', eventDate: 1, username: { first: 'x' } }],
  ])('throws MalformedJsonError naming %s', (field, bad) => {
    const act = () => mfaAuditRecord({ tenantLabel: 't', event: bad });
    expect(act).toThrow(MalformedJsonError);
    expect(act).toThrow(new RegExp(`^${field}:`));
  });

  it('refuses a line that is not an envelope', () => {
    expect(() => mfaAuditRecord(event)).toThrow(/tenantLabel/);
    expect(() => mfaAuditRecord({ tenantLabel: 't', event: 'x' })).toThrow(/^event:/);
  });

  it('defines lower snake_case columns, and queries against its table', () => {
    for (const column of mfaAuditReport.columns) expect(column.name).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(cspDefinition.queries.map((q) => q.name)).toEqual([
      'csp-mfa-deactivations-and-disables-per-user',
      'csp-mfa-authentication-failures-per-day',
      'csp-logins-without-mfa',
      'csp-recovery-code-use',
    ]);
    for (const query of cspDefinition.queries) expect(query.sql).toContain(`FROM ${MFA_AUDIT_TABLE}`);
  });
});
