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
 * 5. CSV files take a faster path with the same result (`compileRawStatisticsCsv`): the header is
 *    read once, and each row becomes its JSON line without an object in between.
 */
import { isCalendarDate, isRealDay } from '../../core/dates.ts';
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
function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * `dd/MM/yyyyTHH:mm:ss` (UTC) → `YYYY-MM-DD HH:MM:SS.000`. Day first: OpenAthens is a UK service
 * (British spelling throughout its docs, UK dates), its one example (06/06/2023) cannot tell, and
 * each report covers a single known day, so the `openathens-unexpected-event-day` query shows a wrong guess
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
  if (!isRealDay(year, month, day)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}.000`;
}

/** `YYYY-MM-DD` that is a real calendar date, else undefined. */
export function parseIsoDate(value: string): string | undefined {
  return isCalendarDate(value) ? value : undefined;
}

function describe(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return JSON.stringify(shown);
}

function badDate(header: string, value: string): MalformedCsvError {
  return new MalformedCsvError(`field "${header}" must be a date YYYY-MM-DD or empty; received ${describe(value)}`);
}

/** `date` missing (`sawDate` false), empty, or not an event time. */
function badEventTime(sawDate: boolean, value: string | null): MalformedCsvError {
  if (!sawDate) {
    return new MalformedCsvError('field "date" is missing: expected the documented OpenAthens raw report header');
  }
  if (value === null || value === '') {
    return new MalformedCsvError('field "date" must hold the event time dd/MM/yyyyTHH:mm:ss; received an empty value');
  }
  return new MalformedCsvError(
    `field "date" must be a UTC time dd/MM/yyyyTHH:mm:ss such as 20/06/2023T19:29:16; received ${describe(value)}`,
  );
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
          if (parsed === undefined) throw badDate(header, value);
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

  if (!sawDate || eventTimeRaw === null || eventTimeRaw === '') throw badEventTime(sawDate, eventTimeRaw);
  const eventTime = parseEventTime(eventTimeRaw);
  if (eventTime === undefined) throw badEventTime(true, eventTimeRaw);
  record.event_time = eventTime;
  record.event_time_raw = eventTimeRaw;
  record.attributes = attributes;
  record.extra = extra;
  return record;
}

/** What `JSON.stringify` escapes in a string: `"`, `\`, controls, and surrogates (lone ones). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Distinct event times remembered per file; rows mostly come in time order, many per second. */
const EVENT_TIME_CACHE_SIZE = 4096;
/** Distinct valid `date` values (account expiry) remembered per file. */
const DATE_CACHE_SIZE = 4096;

/**
 * `YYYY-MM-DD` (digits and dashes only) as the number YYYYMMDD, else -1: a cache key that holds
 * no reference to the parser's input.
 */
function isoDateKey(value: string): number {
  if (value.length !== 10 || value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d) return -1;
  let key = 0;
  for (let i = 0; i < 10; i++) {
    if (i === 4 || i === 7) continue;
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    key = key * 10 + digit;
  }
  return key;
}

// Where each varying part of a compiled line comes from (see `compileRawStatisticsCsv`):
/** a field, as a JSON string */
const SLOT_TEXT = 0;
/** a `date` field (checked first): `null` when empty, else the field quoted */
const SLOT_DATE = 1;
/** the JSON text of `event_time` */
const SLOT_EVENT_TIME = 2;
/** the JSON text of `event_time_raw` */
const SLOT_EVENT_TIME_RAW = 3;
type Slot = typeof SLOT_TEXT | typeof SLOT_DATE | typeof SLOT_EVENT_TIME | typeof SLOT_EVENT_TIME_RAW;

/**
 * `compileCsv` of `raw_statistics`: `JSON.stringify(toRawStatisticsRecord(raw))` with every
 * decision that depends on the header alone taken once per file: which column each field feeds
 * (header cleaned and matched once, not per row), which field wins when two headers mean the same
 * column, the order of the map keys. A row then becomes its JSON line by concatenation, and the
 * event time is parsed once per distinct value.
 *
 * Ordering follows `toRawStatisticsRecord` step by step: fields are visited in the order
 * `Object.entries` visits the row object the CSV reader would build (V8 puts integer-like keys
 * first, so a plain object built the same way is asked), a later field overwrites an earlier one
 * of the same column or map key, and the maps keep the key order a plain object gives them.
 * Errors are the same and come in the same order: `date`-typed fields in visiting order, then
 * the event time. test/connectors/openathens/compiled.test.ts compares both paths byte for byte.
 *
 * One function of about 120 lines on purpose: the row function it returns closes over every
 * decision taken above it, which is the speed-up `bench/experiments/compiled-mapper.ts` measures.
 */
export function compileRawStatisticsCsv(header: readonly string[]): (fields: readonly string[]) => string {
  const probe: Record<string, number> = {};
  for (let i = 0; i < header.length; i++) probe[header[i]!] = i;

  const fieldOfColumn = new Map<string, number>();
  /** every field that feeds a `date` column, checked in visiting order even when overwritten */
  const dateChecks: Array<{ readonly field: number; readonly header: string }> = [];
  const attributes: Record<string, number> = {};
  const extra: Record<string, number> = {};
  let dateField = -1;
  for (const i of Object.values(probe)) {
    const name = cleanHeader(header[i]!);
    const lower = name.toLowerCase();
    if (lower === DATE_HEADER) {
      dateField = i;
      continue;
    }
    const column = DOCUMENTED_BY_HEADER.get(lower);
    if (column) {
      fieldOfColumn.set(column.name, i);
      if (column.type === 'date') dateChecks.push({ field: i, header: name });
    } else if (lower.startsWith(ATTRIBUTE_PREFIX)) {
      attributes[name.slice(ATTRIBUTE_PREFIX.length)] = i;
    } else {
      extra[name] = i;
    }
  }

  // The line is texts[0] value[0] texts[1] value[1] … tail: constant text (keys, nulls, braces)
  // folded between the values that vary per row.
  const texts: string[] = [];
  const slots: Slot[] = [];
  const fields: number[] = [];
  let constant = '{';
  const addValue = (slot: Slot, field = -1) => {
    texts.push(constant);
    slots.push(slot);
    fields.push(field);
    constant = '';
  };
  const addMap = (entries: Record<string, number>) => {
    constant += '{';
    for (const [j, [key, field]] of Object.entries(entries).entries()) {
      constant += `${j === 0 ? '' : ','}${JSON.stringify(key)}:`;
      addValue(SLOT_TEXT, field);
    }
    constant += '}';
  };
  for (const [j, column] of RAW_STATISTICS_COLUMNS.entries()) {
    constant += `${j === 0 ? '' : ','}${JSON.stringify(column.name)}:`;
    if (column.name === 'event_time') addValue(SLOT_EVENT_TIME);
    else if (column.name === 'event_time_raw') addValue(SLOT_EVENT_TIME_RAW);
    else if (column.name === 'attributes') addMap(attributes);
    else if (column.name === 'extra') addMap(extra);
    else {
      const field = fieldOfColumn.get(column.name);
      if (field === undefined) constant += 'null';
      else addValue(column.type === 'date' ? SLOT_DATE : SLOT_TEXT, field);
    }
  }
  const tail = `${constant}}`;

  /** `isoDateKey` of the dates `parseIsoDate` accepted */
  const goodDates = new Set<number>();
  // `event_time_raw` (its JSON text) → `event_time` (its JSON text), for valid times only (a bad
  // one ends the file). Keyed by the JSON text, a fresh string: the field itself is a slice of
  // the parser's input and, held in the cache, would keep all of that input alive.
  const times = new Map<string, string>();
  let lastRaw = '';
  let lastTime = '';
  let lastRawJson = '';

  return (row) => {
    for (let c = 0; c < dateChecks.length; c++) {
      const date = row[dateChecks[c]!.field]!;
      if (date === '') continue;
      const key = isoDateKey(date);
      if (goodDates.has(key)) continue;
      if (parseIsoDate(date) === undefined) throw badDate(dateChecks[c]!.header, date);
      if (goodDates.size >= DATE_CACHE_SIZE) goodDates.clear();
      if (key !== -1) goodDates.add(key); // always: parseIsoDate accepts YYYY-MM-DD only
    }
    if (dateField === -1) throw badEventTime(false, null);
    const raw = row[dateField]!;
    if (raw !== lastRaw || lastTime === '') {
      if (raw === '') throw badEventTime(true, raw);
      const rawJson = JSON.stringify(raw);
      let time = times.get(rawJson);
      if (time === undefined) {
        const parsed = parseEventTime(raw);
        if (parsed === undefined) throw badEventTime(true, raw);
        time = `"${parsed}"`;
        if (times.size >= EVENT_TIME_CACHE_SIZE) times.clear();
        times.set(rawJson, time);
      }
      lastRaw = raw;
      lastTime = time;
      lastRawJson = rawJson;
    }
    // One `+=` per value, its constant text first: fewer and larger string pieces than `+=` per part.
    let line = '';
    for (let k = 0; k < slots.length; k++) {
      const before = texts[k]!;
      const slot = slots[k]!;
      if (slot === SLOT_TEXT) {
        const text = row[fields[k]!]!;
        line += NEEDS_ESCAPE.test(text) ? before + JSON.stringify(text) : `${before}"${text}"`;
      } else if (slot === SLOT_EVENT_TIME) {
        line += before + lastTime;
      } else if (slot === SLOT_EVENT_TIME_RAW) {
        line += before + lastRawJson;
      } else {
        const date = row[fields[k]!]!;
        line += date === '' ? `${before}null` : `${before}"${date}"`;
      }
    }
    return line + tail;
  };
}

export const rawStatisticsReport: ReportDefinition = {
  name: 'raw_statistics',
  description:
    'OpenAthens raw statistics: one row per authentication or resource transfer of one organisation, one UTC day per partition',
  columns: RAW_STATISTICS_COLUMNS,
  toRecord: toRawStatisticsRecord,
  compileCsv: compileRawStatisticsCsv,
};
