/**
 * The contract between the shared machinery and a vendor connector.
 *
 * 1. A connector is a pure `ConnectorDefinition` (schemas, reports, queries, cadence, date
 *    planning) and a `ConnectorRuntime` (the three steps), registered together as a `Connector`.
 * 2. The plan step asks the definition which report dates a run covers (`planDates`).
 * 3. The state machine calls `startJob`, then `checkJob` in a Wait/Choice loop until READY.
 * 4. The archive step calls `fetchReport`, which opens the vendor's files, and hands them to the
 *    streaming archiver core, which stores the original, the extracted rows and a manifest.
 *
 * Everything a connector returns in `job` travels through the state machine's input and output,
 * which more people can read than the secrets: ids and counters only, never a token, password,
 * key or pre-signed URL.
 */
import type { Readable } from 'node:stream';
import type { z } from 'zod';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Column types, written once and rendered for both Glue (Athena) and DuckDB. */
export type ColumnType = 'string' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'date' | 'map<string,string>';

export interface ColumnDefinition {
  /** lower snake_case; the key used in the archived JSON Lines records */
  readonly name: string;
  readonly type: ColumnType;
  readonly comment?: string;
}

/** One vendor report: one Glue table, one folder of the archive. */
export interface ReportDefinition {
  /** lower snake_case, unique within the vendor; used in S3 keys and table names */
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ColumnDefinition[];
  /**
   * Maps one parsed record (a CSV row keyed by its header, or one JSON object) to the archived
   * record keyed by column name. Values must match the column types: timestamps as
   * `YYYY-MM-DD HH:MM:SS.fff` in UTC, maps as objects of strings. Throw `MalformedCsvError` (or
   * `MalformedJsonError`) naming the field for a value that cannot be converted.
   */
  toRecord(raw: Readonly<Record<string, unknown>>): JsonObject;
  /**
   * Optional fast path for CSV, called once per file with its header row (as parsed, names
   * unique). Returns a function from one row's fields (in header order, as many as the header) to
   * the JSON text of its record: exactly `JSON.stringify(toRecord(raw))` for the object `raw` the
   * CSV reader would have keyed by that header, byte for byte, and throwing the same errors for
   * the same rows. `toRecord` stays the definition; this only saves building and serialising an
   * object per row. Must not throw for a header alone (a file may have no rows).
   */
  compileCsv?(header: readonly string[]): (fields: readonly string[]) => string;
  /**
   * The columns the vendor's docs say a CSV file of this report has that `header` lacks, by their
   * documented names; `requestParameters` are the fetch's (a vendor may deliver only the columns
   * asked for). Called once per CSV file, before its rows: any answer fails the archive with
   * MalformedCsvError naming them, so a renamed column never archives as a column of nulls.
   */
  missingColumns?(header: readonly string[], requestParameters: JsonObject): readonly string[];
}

/** What a scheduled or hand-started execution asks for (the state machine's input). */
export interface RunRequest {
  /** the schedule's time (ISO 8601); the run treats it as "now" so a run can be replayed */
  readonly scheduledTime: string;
  /** report date to fetch (YYYY-MM-DD); default: the connector's choice for `scheduledTime` */
  readonly date?: string;
  /** limit the run to these tenant ids / reports; default all configured */
  readonly tenants?: readonly string[];
  readonly reports?: readonly string[];
  /** archive again even when the date is already archived */
  readonly force?: boolean;
}

/** One unit of work: a tenant's report for one date. */
export interface ReportRequest {
  readonly vendor: string;
  readonly tenant: string;
  readonly report: string;
  /** the date the report covers (YYYY-MM-DD, UTC) */
  readonly date: string;
  /** the state machine execution (or local run) id, recorded in the manifest */
  readonly runId: string;
}

export type JobStatus = 'READY' | 'PENDING' | 'RESTART' | 'SKIPPED' | 'FAILED';

/**
 * What the Choice state reads. READY: go and fetch. PENDING: wait `waitSeconds`, then check
 * again. RESTART: the vendor lost the job (expired, 404): start a new one. SKIPPED: nothing to
 * do, not an error (for example a vendor window that has not passed). FAILED: a business
 * failure, with `reason`.
 */
export interface JobResult {
  readonly status: JobStatus;
  /** connector state carried between steps: ids and counters only, never secrets */
  readonly job: JsonObject;
  readonly waitSeconds?: number;
  readonly reason?: string;
}

export interface DownloadedBody {
  readonly body: Readable;
  readonly contentType?: string;
  readonly contentLength?: number;
  /**
   * For a `json-pages` original: one manifest entry per page body, in the order they were
   * concatenated (page k starts at the sum of the earlier lengths). Read once the body ended.
   */
  readonly parts?: () => import('./archive/manifest.ts').ManifestEntry[];
  /**
   * For a `derived` source: what the connector left out of it, by reason (e.g.
   * `duplicate_event_id`), for the manifest's `dropped`. Read once the body ended.
   */
  readonly dropped?: () => Record<string, number>;
}

/** One file the vendor delivers for a report. */
export interface ReportSource {
  /** file name the original is archived under, e.g. `devices-report.csv.zip` */
  readonly fileName: string;
  /**
   * `data`: archived and parsed into the table; `original`: archived byte-for-byte only;
   * `derived`: parsed into the table like `data` but not stored (its bytes are the connector's,
   * not the vendor's: the vendor's go in an `original` beside it)
   */
  readonly role: 'data' | 'original' | 'derived';
  /** the original's manifest format when it cannot be sniffed (`json-pages`: page bodies back to back) */
  readonly format?: 'json-pages';
  /** opens the download (called once, right away; links may expire) */
  open(): Promise<DownloadedBody>;
  /** password for encrypted zip entries: held in memory only */
  readonly password?: string;
}

export type FetchResult =
  | {
      readonly status: 'FETCHED';
      readonly sources: readonly ReportSource[];
      /** request parameters for the manifest, without secrets */
      readonly requestParameters: JsonObject;
      /** vendor job ids and timestamps for the manifest */
      readonly job: JsonObject;
    }
  | JobResult;

/** Non-secret settings shared by every vendor, after defaults were applied. */
export interface VendorSettings {
  readonly enabled: boolean;
  /** one Secrets Manager secret holding every tenant's credentials, keyed by tenant id (deployed runs) */
  readonly secretName?: string;
  readonly baseUrl: string;
  readonly scheduleTimezone: string;
  readonly schedule: string;
  readonly reports: readonly string[];
  readonly maxConcurrency: number;
  /** hosts (exact, or `*.suffix`) that downloads may come from, besides the base URL's host */
  readonly downloadHosts: readonly string[];
  readonly poll: { readonly intervalSeconds: number; readonly maxAttempts: number; readonly deadlineMinutes: number };
}

export interface TenantBase {
  /** stable slug: part of S3 keys and partition values */
  readonly id: string;
  /** Secrets Manager secret name or ARN holding this tenant's credentials (deployed runs) */
  readonly secretName?: string;
  /** overrides the vendor's baseUrl for this tenant */
  readonly baseUrl?: string;
}

export interface ConnectorContext<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings> {
  readonly settings: TSettings;
  readonly tenant: TTenant;
  /** the tenant's baseUrl, or else the vendor's */
  readonly baseUrl: string;
  /** the tenant's credentials, parsed with the connector's `credentialsSchema`; cached */
  credentials(): Promise<TCredentials>;
  readonly http: import('./http/index.ts').HttpClient;
  readonly logger: import('@aws-lambda-powertools/logger').Logger;
  readonly now: () => Date;
}

/**
 * An auditor query, saved in Athena and run by the local pipeline with DuckDB. Tables are named
 * `<vendor>_<report>` (unqualified: Athena runs it in the catalog database), partition columns
 * are `dt` (YYYY-MM-DD string) and `tenant`. Write SQL both engines accept: CAST, date_trunc,
 * COUNT/SUM, GROUP BY, ORDER BY, LIKE, LOWER, COALESCE, CASE.
 */
export interface SavedQuery {
  /** kebab-case */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

/**
 * How a vendor's data relates to dates. `event-log`: each day is a closed window of events that
 * can be read back while the vendor keeps it. `snapshot`: a report is the state "now", so a past
 * date cannot be fetched. Later features (a coverage view, backfill) read this; each connector's
 * value cites the vendor documentation it comes from.
 */
export interface Cadence {
  readonly kind: 'event-log' | 'snapshot';
  /**
   * Days back (before today, UTC) the vendor serves data; `null` when the vendor does not
   * document how long it keeps data. A snapshot serves today only: 0.
   */
  readonly historyDays: number | null;
}

/**
 * What a vendor is, without talking to it: what synth, the catalog, the plan step, the local
 * catalog and the docs need. A definition imports no network, SDK, JWT or HTTP client code and
 * has no module-scope side effects (a test bundles each one to check).
 */
export interface ConnectorDefinition<
  TTenant extends TenantBase = TenantBase,
  TCredentials = unknown,
  TSettings extends VendorSettings = VendorSettings,
> {
  /** lower-case id: config key, S3 partition value, table name prefix */
  readonly vendor: string;
  readonly displayName: string;
  /** the vendor's whole config section (settings + tenants), with defaults */
  readonly sectionSchema: z.ZodType<TSettings & { tenants: TTenant[]; reports: string[] }>;
  /** one tenant entry of the section */
  readonly tenantSchema: z.ZodType<TTenant>;
  /** the tenant's credentials (Secrets Manager secret, or inline / environment for local runs) */
  readonly credentialsSchema: z.ZodType<TCredentials>;
  readonly reports: readonly ReportDefinition[];
  readonly queries: readonly SavedQuery[];
  readonly cadence: Cadence;
  /**
   * How `npm run backfill` spaces the executions it starts. Absent: the vendor's reports are
   * snapshots and a past date cannot be fetched.
   */
  readonly backfill?: {
    /** seconds between execution starts, to respect the vendor's limits */
    readonly spacingSeconds: number;
  };
  /**
   * Dates a run covers for one tenant and report. `archived` lists dates already in the archive
   * (within the last 60 days). Default: `[request.date]` or the day before `scheduledTime` (UTC).
   */
  planDates?(input: { scheduledTime: Date; requestedDate?: string; archived: ReadonlySet<string> }): string[];
  /**
   * Dates the vendor will stop serving within `horizonDays` that are not archived yet (vendors
   * with a short history, such as OpenAthens' 30 days). The plan step publishes their count as
   * the `DatesAtRisk` metric, which has an alarm. Default: none.
   */
  datesAtRisk?(input: { now: Date; archived: ReadonlySet<string>; horizonDays: number }): string[];
}

/** What a vendor does: the three steps of the polling loop, typed against its definition. */
export interface ConnectorRuntime<
  TTenant extends TenantBase = TenantBase,
  TCredentials = unknown,
  TSettings extends VendorSettings = VendorSettings,
> {
  /** `previousJob` is the job a RESTART abandoned (empty on the first start) */
  startJob(
    ctx: ConnectorContext<TTenant, TCredentials, TSettings>,
    request: ReportRequest,
    previousJob?: JsonObject,
  ): Promise<JobResult>;
  checkJob(
    ctx: ConnectorContext<TTenant, TCredentials, TSettings>,
    request: ReportRequest,
    job: JsonObject,
  ): Promise<JobResult>;
  fetchReport(
    ctx: ConnectorContext<TTenant, TCredentials, TSettings>,
    request: ReportRequest,
    job: JsonObject,
  ): Promise<FetchResult>;
}

/**
 * A registered vendor: its definition, and its runtime loaded on first use (so synth, the
 * catalog and the plan step never load runtime code). The pipeline steps build the runtime's
 * context from the definition's own `sectionSchema`, so the runtime always receives settings and
 * a tenant of its own types.
 */
export interface Connector<
  TTenant extends TenantBase = TenantBase,
  TCredentials = unknown,
  TSettings extends VendorSettings = VendorSettings,
> {
  readonly definition: ConnectorDefinition<TTenant, TCredentials, TSettings>;
  runtime(): Promise<ConnectorRuntime<TTenant, TCredentials, TSettings>>;
}

/** The tenant, credentials and settings types of a definition, for typing its runtime. */
export type RuntimeOf<TDefinition> =
  TDefinition extends ConnectorDefinition<infer TTenant, infer TCredentials, infer TSettings>
    ? ConnectorRuntime<TTenant, TCredentials, TSettings>
    : never;

/**
 * A definition with its tenant, credentials and settings types inferred from its schemas (no
 * annotation to keep in step with them). `sectionSchema`'s output is the settings type.
 */
export function defineConnector<
  TSection extends VendorSettings & { tenants: TenantBase[]; reports: string[] },
  TCredentials,
>(
  definition: ConnectorDefinition<TSection['tenants'][number], TCredentials, TSection> & {
    readonly sectionSchema: z.ZodType<TSection>;
  },
): ConnectorDefinition<TSection['tenants'][number], TCredentials, TSection> {
  return definition;
}

/** A definition and the loader of its runtime, with the types of both kept together. */
export function registerConnector<TTenant extends TenantBase, TCredentials, TSettings extends VendorSettings>(
  definition: ConnectorDefinition<TTenant, TCredentials, TSettings>,
  load: () => Promise<ConnectorRuntime<TTenant, TCredentials, TSettings>>,
): Connector<TTenant, TCredentials, TSettings> {
  let loaded: Promise<ConnectorRuntime<TTenant, TCredentials, TSettings>> | undefined;
  return {
    definition,
    runtime() {
      loaded ??= load();
      return loaded;
    },
  };
}
