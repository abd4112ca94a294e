/**
 * Deterministic MFA audit events for the CSP simulator.
 *
 * 1. A seeded PRNG (mulberry32 over an FNV-1a hash of the seed) drives every choice, so the same
 *    options always produce the same events.
 * 2. Events are spread over `days` UTC days ending at `anchorMs`, with some identical timestamps
 *    (ties are ordered by eventId) and CSV-hostile values (commas, quotes, newlines, non-ASCII,
 *    empty strings) where the vendor could plausibly produce them: device names are user input.
 *
 * Kept independent of the connector's `MFA_AUDIT_ACTIONS` on purpose: a shared mistake would be invisible.
 */

import { pick } from '../random.ts';

export const MFA_AUDIT_ACTIONS = [
  'MFA_ACTIVATION',
  'MFA_DEACTIVATION',
  'MFA_ENABLE',
  'MFA_DISABLE',
  'MFA_DEVICE_NAME_UPDATE',
  'MFA_AUTHENTICATION_SUCCESS',
  'MFA_AUTHENTICATION_FAILURE',
  'MFA_RECOVERY_CODE_AUTHENTICATION_SUCCESS',
  'MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE',
  'MFA_RECOVERY_CODES_GENERATION',
  'AUTHENTICATION_WITHOUT_MFA',
] as const;

export type MfaAuditAction = (typeof MFA_AUDIT_ACTIONS)[number];

/** One event as the API returns it (`MfaAuditLogDto`). */
export interface SimMfaEvent {
  eventId: string;
  action: string;
  eventDate: number;
  username: string;
  modifiedBy: string | null;
  details?: Record<string, unknown> | null;
}

export type Rng = () => number;

export function createRng(seed: string | number): Rng {
  let state = typeof seed === 'number' ? seed >>> 0 : fnv1a(seed);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function uuid(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(rng() * 4) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** 65 characters, like a real CSP API token. */
export function apiToken(rng: Rng): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 65 }, () => pick(rng, [...alphabet])).join('');
}

const WEIGHTED_ACTIONS: readonly [MfaAuditAction, number][] = [
  ['MFA_AUTHENTICATION_SUCCESS', 48],
  ['MFA_AUTHENTICATION_FAILURE', 12],
  ['AUTHENTICATION_WITHOUT_MFA', 8],
  ['MFA_ACTIVATION', 5],
  ['MFA_DEACTIVATION', 4],
  ['MFA_ENABLE', 4],
  ['MFA_DISABLE', 4],
  ['MFA_DEVICE_NAME_UPDATE', 3],
  ['MFA_RECOVERY_CODE_AUTHENTICATION_SUCCESS', 4],
  ['MFA_RECOVERY_CODE_AUTHENTICATION_FAILURE', 3],
  ['MFA_RECOVERY_CODES_GENERATION', 5],
];
const TOTAL_WEIGHT = WEIGHTED_ACTIONS.reduce((sum, [, weight]) => sum + weight, 0);

export function pickAction(rng: Rng): MfaAuditAction {
  let roll = rng() * TOTAL_WEIGHT;
  for (const [action, weight] of WEIGHTED_ACTIONS) {
    roll -= weight;
    if (roll < 0) return action;
  }
  return 'MFA_AUTHENTICATION_SUCCESS';
}

/** Device names are typed by users: expect anything. */
export const DEVICE_NAMES = [
  'Pixel 8 "work"',
  'iPhone de Zoë',
  'YubiKey 5C, NFC',
  'Ключ безопасности',
  'tablet\nsecond line',
  '',
  'Authy — desktop',
  '山田のiPad',
  "O'Brien's phone; spare",
  'Google Authenticator',
] as const;

const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
  'curl/8.5.0',
] as const;

const ADMINS = ['org-admin@example.com', 'security.ops@example.com'] as const;

export interface GenerateOptions {
  readonly rng: Rng;
  readonly username: string;
  readonly count: number;
  /** events fall in [anchorMs - days * 1 day, anchorMs) */
  readonly anchorMs: number;
  readonly days: number;
  /** add detail keys besides the documented `deviceName` (an assumption) */
  readonly extraDetailKeys: boolean;
}

export function generateEvents(options: GenerateOptions): SimMfaEvent[] {
  const { rng, username, count, anchorMs, days } = options;
  const span = days * 86_400_000;
  const events: SimMfaEvent[] = [];
  for (let i = 0; i < count; i++) {
    const previous = events[events.length - 1];
    // about one event in ten shares its millisecond with another one
    const eventDate = previous && rng() < 0.1 ? previous.eventDate : anchorMs - 1 - Math.floor(rng() * span);
    events.push(buildEvent(rng, username, pickAction(rng), eventDate, options.extraDetailKeys));
  }
  return events;
}

export function buildEvent(
  rng: Rng,
  username: string,
  action: MfaAuditAction,
  eventDate: number,
  extraDetailKeys: boolean,
): SimMfaEvent {
  const deviceName = pick(rng, DEVICE_NAMES);
  const adminChange = (action === 'MFA_DISABLE' || action === 'MFA_DEACTIVATION') && rng() < 0.4;
  const modifiedBy = adminChange ? pick(rng, ADMINS) : rng() < 0.05 ? null : username;
  let details: Record<string, unknown> | null | undefined;
  switch (action) {
    case 'AUTHENTICATION_WITHOUT_MFA':
      details = rng() < 0.5 ? undefined : extraDetailKeys ? { reason: 'MFA not enrolled, "optional" policy' } : {};
      break;
    case 'MFA_RECOVERY_CODES_GENERATION':
      details = extraDetailKeys ? { deviceName, codesGenerated: 10 } : { deviceName };
      break;
    case 'MFA_DEVICE_NAME_UPDATE':
      details = extraDetailKeys ? { deviceName, previousDeviceName: pick(rng, DEVICE_NAMES) } : { deviceName };
      break;
    default:
      details =
        extraDetailKeys && action.includes('AUTHENTICATION')
          ? { deviceName, userAgent: pick(rng, USER_AGENTS), ipAddress: `203.0.113.${Math.floor(rng() * 254) + 1}` }
          : { deviceName };
  }
  const event: SimMfaEvent = { action, eventDate, eventId: uuid(rng), modifiedBy, username };
  if (details !== undefined) event.details = details;
  return event;
}

/** Newest first; ties by eventId, descending, so paging is stable. */
export function compareNewestFirst(a: SimMfaEvent, b: SimMfaEvent): number {
  if (a.eventDate !== b.eventDate) return b.eventDate - a.eventDate;
  return a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0;
}
