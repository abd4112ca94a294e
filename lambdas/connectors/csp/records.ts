/**
 * The `mfa_audit` report (table `csp_mfa_audit`): one row per MFA audit event.
 *
 * Records arrive as the NDJSON lines the audit stream writes: `{"tenantLabel", "event"}`, where
 * `event` is the API's `MfaAuditLogDto` untouched.
 */
import { MalformedJsonError } from '../../core/errors.ts';
import type { JsonObject, ReportDefinition } from '../../core/types.ts';
import { CSP_VENDOR, MFA_AUDIT_REPORT } from './settings.ts';

export const MFA_AUDIT_TABLE = `${CSP_VENDOR}_${MFA_AUDIT_REPORT}`;

/** The largest epoch ms that still renders as a four-digit year. */
const MAX_EPOCH_MS = 253_402_300_799_999;

export const mfaAuditReport: ReportDefinition = {
  name: MFA_AUDIT_REPORT,
  description:
    'MFA audit events (activation, enable/disable, logins, recovery codes) of the user who owns each API token',
  columns: [
    { name: 'event_id', type: 'string', comment: 'eventId; unique within a window' },
    { name: 'action', type: 'string', comment: 'e.g. MFA_DISABLE, MFA_AUTHENTICATION_FAILURE' },
    { name: 'event_time', type: 'timestamp', comment: 'eventDate, UTC' },
    { name: 'event_date_ms', type: 'bigint', comment: 'eventDate as returned: epoch milliseconds' },
    { name: 'username', type: 'string', comment: 'the principal the event is about' },
    { name: 'modified_by', type: 'string', comment: 'who made the change (an admin, or the user)' },
    { name: 'device_name', type: 'string', comment: 'details.deviceName' },
    { name: 'tenant_label', type: 'string', comment: 'the user the API token belongs to (from the config)' },
    { name: 'details', type: 'map<string,string>', comment: 'every other details key; non-strings as JSON' },
  ],
  toRecord: mfaAuditRecord,
};

export function mfaAuditRecord(raw: Readonly<Record<string, unknown>>): JsonObject {
  const tenantLabel = raw.tenantLabel;
  if (typeof tenantLabel !== 'string') {
    throw new MalformedJsonError(`tenantLabel: expected a string; received ${kind(tenantLabel)}`);
  }
  const event = raw.event;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new MalformedJsonError(`event: expected an MFA audit event object; received ${kind(event)}`);
  }
  const e = event as Record<string, unknown>;
  const eventId = e.eventId;
  if (typeof eventId !== 'string' || eventId.length === 0) {
    throw new MalformedJsonError(`eventId: expected a non-empty string; received ${kind(eventId)}`);
  }
  const eventDate = epochMs(e.eventDate);
  const detailsRaw = e.details;
  if (
    detailsRaw !== undefined &&
    detailsRaw !== null &&
    (typeof detailsRaw !== 'object' || Array.isArray(detailsRaw))
  ) {
    throw new MalformedJsonError(`details: expected an object; received ${kind(detailsRaw)} (eventId ${eventId})`);
  }
  const details: Record<string, string> = {};
  let deviceName: string | null = null;
  for (const [key, value] of Object.entries((detailsRaw ?? {}) as Record<string, unknown>)) {
    if (key === 'deviceName') deviceName = value === null || value === undefined ? null : asText(value);
    else details[key] = asText(value);
  }
  return {
    event_id: eventId,
    action: optionalText(e.action, 'action', eventId),
    event_time: timestamp(eventDate),
    event_date_ms: eventDate,
    username: optionalText(e.username, 'username', eventId),
    modified_by: optionalText(e.modifiedBy, 'modifiedBy', eventId),
    device_name: deviceName,
    tenant_label: tenantLabel,
    details,
  };
}

function epochMs(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_EPOCH_MS) {
    throw new MalformedJsonError(`eventDate: expected epoch milliseconds; received ${kind(value)}`);
  }
  return n;
}

/** `YYYY-MM-DD HH:MM:SS.fff`, UTC. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function optionalText(value: unknown, field: string, eventId: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new MalformedJsonError(`${field}: expected a string; received ${kind(value)} (eventId ${eventId})`);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

function kind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
