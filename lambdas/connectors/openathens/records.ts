/**
 * The `raw_statistics` table: OpenAthens' documented raw report columns, typed, plus two maps.
 *
 * 1. Each documented column becomes a lower snake_case column (`account.organisation` →
 *    `account_organisation`). String values are kept exactly as delivered (an empty field stays
 *    an empty string: CSV cannot tell "empty" from "absent").
 * 2. `date` (`06/06/2023T19:29:16`, UTC) becomes `event_time` (timestamp) and is also kept as
 *    delivered in `event_time_raw`. The day comes first (dd/MM/yyyy): see `parseEventTime`.
 * 3. Every `attribute.*` column except the three documented ones goes into `attributes`
 *    (key without the prefix): organisations choose their own reportable attributes and change
 *    them over time, so a map never breaks a query or an older partition.
 * 4. Any other column the docs do not list goes into `extra` (key = header as delivered), so a
 *    column OpenAthens adds is archived, not dropped.
 */
import { MalformedCsvError } from '../../core/errors.ts';
import type { ColumnDefinition, JsonObject, ReportDefinition } from '../../core/types.ts';

interface DocumentedColumn extends ColumnDefinition {
  /** the CSV header, lower case */
  readonly header: string;
}

function documented(header: string, type: ColumnDefinition['type'], comment: string): DocumentedColumn {
  return { header, name: header.replace(/\./g, '_'), type, comment };
}

/** In the documented order. `date` is handled apart (two columns). */
const DOCUMENTED: readonly DocumentedColumn[] = [
  documented('action', 'string', 'AUTHENTICATE, LOCAL_AUTHENTICATE, FEDERATED_TRANSFER or LOCAL_FEDERATED_TRANSFER'),
  documented('status', 'string', 'outcome, e.g. SUCCESS, ACCOUNT_ERROR_BAD_PASSWORD, FAILURE_RESTRICTIVE'),
  documented('account.authsystemname', 'string', 'local connector name, e.g. Student login'),
  documented('account.authsystemid', 'string', 'local connector id'),
  documented(
    'account.permissionsets',
    'string',
    'permission set names, comma separated, e.g. demo#default, demo#extra',
  ),
  documented('account.organisation', 'string', 'parent organisation of the account'),
  documented('account.accountid', 'string', 'account id'),
  documented('account.type', 'string', 'e.g. LOCAL, PERSONAL'),
  documented('account.status', 'string', 'e.g. PENDING, INVALID, ACTIVE'),
  documented('account.expiry', 'date', 'account expiry date (OpenAthens accounts only)'),
  documented('location.isp', 'string', "the user's ISP where identifiable (GeoLite2)"),
  documented('request.countrycode', 'string', 'ISO country code of the user location (GeoLite2)'),
  documented('request.useragent', 'string', "the browser's user agent"),
  documented('request.ipaddress', 'string', 'client IP address'),
  documented('attribute.resourceid', 'string', 'transfers only: entityID of the resource'),
  documented('attribute.federationctx', 'string', 'transfers only: federation, e.g. oafed, ukfed, or the API name'),
  documented('attribute.resourcetitle', 'string', 'transfers only: resource title at the time'),
];

const DOCUMENTED_BY_HEADER = new Map(DOCUMENTED.map((column) => [column.header, column]));
const DATE_HEADER = 'date';
const ATTRIBUTE_PREFIX = 'attribute.';

export const RAW_STATISTICS_COLUMNS: readonly ColumnDefinition[] = [
  {
    name: 'event_time',
    type: 'timestamp',
    comment: 'UTC time of the event, from `date` (read as dd/MM/yyyyTHH:mm:ss)',
  },
  { name: 'event_time_raw', type: 'string', comment: 'the `date` field exactly as delivered' },
  ...DOCUMENTED.map(({ name, type, comment }) => ({ name, type, comment })),
  {
    name: 'attributes',
    type: 'map<string,string>',
    comment: "the organisation's reportable attribute.* columns, keyed without the prefix",
  },
  { name: 'extra', type: 'map<string,string>', comment: 'columns the docs do not list, keyed by their header' },
];

const EVENT_TIME = /^(\d{2})\/(\d{2})\/(\d{4})T(\d{2}):(\d{2}):(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * `dd/MM/yyyyTHH:mm:ss` (UTC) → `YYYY-MM-DD HH:MM:SS.000`. Day first: OpenAthens is a UK service
 * (British spelling throughout its docs, UK dates), its one example (06/06/2023) cannot tell, and
 * each report covers a single known day, so the `unexpected-event-day` query shows a wrong guess
 * at once. Anything else (another layout, month 13, 31/04, hour 24) is refused, never guessed.
 */
export function parseEventTime(value: string): string | undefined {
  const match = EVENT_TIME.exec(value);
  if (!match) return undefined;
  const [day, month, year, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}.000`;
}

/** `YYYY-MM-DD` that is a real calendar date, else undefined. */
export function parseIsoDate(value: string): string | undefined {
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return value;
}

function describe(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return JSON.stringify(shown);
}

/** A CSV header as the vendor would mean it: BOM and surrounding blanks removed. */
function cleanHeader(header: string): string {
  return header.replace(/^\uFEFF/, '').trim();
}

function asText(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new MalformedCsvError(
    `field "${field}" must be text; received ${Array.isArray(value) ? 'an array' : typeof value}`,
  );
}

/** One parsed CSV row (keyed by header) → one archived record (keyed by column). */
export function toRawStatisticsRecord(raw: Readonly<Record<string, unknown>>): JsonObject {
  const record: JsonObject = {};
  for (const column of RAW_STATISTICS_COLUMNS) record[column.name] = null;
  const attributes: Record<string, string> = {};
  const extra: Record<string, string> = {};
  let eventTimeRaw: string | null = null;
  let sawDate = false;

  for (const [rawHeader, rawValue] of Object.entries(raw)) {
    const header = cleanHeader(rawHeader);
    const lower = header.toLowerCase();
    const value = asText(header, rawValue);
    if (lower === DATE_HEADER) {
      sawDate = true;
      eventTimeRaw = value;
      continue;
    }
    const column = DOCUMENTED_BY_HEADER.get(lower);
    if (column) {
      if (column.type === 'date') {
        if (value === null || value === '') record[column.name] = null;
        else {
          const parsed = parseIsoDate(value);
          if (parsed === undefined) {
            throw new MalformedCsvError(
              `field "${header}" must be a date YYYY-MM-DD or empty; received ${describe(value)}`,
            );
          }
          record[column.name] = parsed;
        }
      } else {
        record[column.name] = value;
      }
      continue;
    }
    if (value === null) continue;
    if (lower.startsWith(ATTRIBUTE_PREFIX)) attributes[header.slice(ATTRIBUTE_PREFIX.length)] = value;
    else extra[header] = value;
  }

  if (!sawDate || eventTimeRaw === null || eventTimeRaw === '') {
    throw new MalformedCsvError(
      sawDate
        ? 'field "date" must hold the event time dd/MM/yyyyTHH:mm:ss; received an empty value'
        : 'field "date" is missing: expected the documented OpenAthens raw report header',
    );
  }
  const eventTime = parseEventTime(eventTimeRaw);
  if (eventTime === undefined) {
    throw new MalformedCsvError(
      `field "date" must be a UTC time dd/MM/yyyyTHH:mm:ss such as 20/06/2023T19:29:16; received ${describe(eventTimeRaw)}`,
    );
  }
  record.event_time = eventTime;
  record.event_time_raw = eventTimeRaw;
  record.attributes = attributes;
  record.extra = extra;
  return record;
}

export const rawStatisticsReport: ReportDefinition = {
  name: 'raw_statistics',
  description:
    'OpenAthens raw statistics: one row per authentication or resource transfer of one organisation, one UTC day per partition',
  columns: RAW_STATISTICS_COLUMNS,
  toRecord: toRawStatisticsRecord,
};
