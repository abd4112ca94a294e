/**
 * The query side of the archive: a Glue database, per report a table over its data objects and a
 * view of its published rows, the manifest table, an Athena workgroup and the auditors' saved
 * queries.
 *
 * 1. Every table comes from the shared definitions in `lambdas/core/tables.ts` (the local runner
 *    renders the same definitions for DuckDB), so the two engines read the same columns. A
 *    report's table is `<vendor>_<report>_objects` (every data object, including unpublished
 *    ones); `<vendor>_<report>`, the name auditors and saved queries use, is an Athena view that
 *    keeps only rows of the data objects a manifest names (`reportViewSql`, the text DuckDB runs).
 * 2. Partitions are projected (`dt` by date; vendors and reports of the registry by enum; never
 *    tenants, which are columns): no crawler, no MSCK REPAIR, a new day is queryable as soon as
 *    its files land, and a retired tenant's history stays. See `tables.ts` for the limits.
 * 3. Rows are read with the OpenX JSON SerDe by column name, with malformed JSON surfacing as a
 *    query error rather than silently skipped rows.
 * 4. The workgroup enforces its result location (a dedicated, KMS-encrypted bucket whose results
 *    expire), SSE-KMS result encryption and a bytes-scanned cutoff.
 * 5. Every connector's saved queries become Athena named queries in that workgroup.
 *
 * Tables are `CfnTable` rather than the `aws-glue` `S3Table`: the L2 renders the columns and the
 * projection, but has no way to set SerDe parameters (`ignore.malformed.json`) without an escape
 * hatch, while our table definitions are already rendered Glue types.
 *
 * CloudFormation has no Athena view resource. A view is written the way Athena's own CREATE VIEW
 * stores it in Glue (and Trino's Glue catalog reads it): a `VIRTUAL_VIEW` table with the
 * `presto_view` parameter, a `ViewOriginalText` that is the SQL comment `Presto View: <base64 of
 * the view JSON>` (originalSql, catalog `awsdatacatalog`, schema, columns in Presto types), a
 * `ViewExpandedText` that is the comment `Presto View`, and the columns in Hive types. Chosen
 * over a custom resource that runs `CREATE VIEW` through Athena: the view is then a plain
 * resource that synth shows, diffs and tests and that deploys and rolls back with its tables,
 * with no Lambda, no query results to write and no Athena permissions in the deploy.
 */
import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { archiveQueries } from '../lambdas/core/archive-queries.ts';
import {
  expectationsTable,
  isReportTable,
  manifestTable,
  objectsTableName,
  outcomesTable,
  PROJECTION_START_DATE,
  reportTable,
  type TableDefinition,
} from '../lambdas/core/tables.ts';
import type { ConnectorDefinition, SavedQuery } from '../lambdas/core/types.ts';
import { archiveViews, type ViewDefinition } from '../lambdas/core/views.ts';
import { pascalCase } from './naming.ts';

export interface ReportCatalogProps {
  /** the archive bucket the tables read */
  readonly archiveBucket: s3.IBucket;
  readonly databaseName: string;
  readonly workgroupName: string;
  /**
   * Every registered connector, whatever the configuration enables: a vendor, report or tenant
   * that leaves the configuration keeps its tables, so its archived history stays in SQL.
   */
  readonly connectors: readonly ConnectorDefinition[];
  /**
   * Bucket that receives the server access logs of the query results bucket.
   * @default - no access logs for the results bucket
   */
  readonly accessLogsBucket?: s3.IBucket;
  /**
   * A query that would scan more than this is cancelled.
   * @default Size.gibibytes(10)
   */
  readonly bytesScannedCutoffPerQuery?: Size;
  /**
   * How long query results are kept.
   * @default Duration.days(30)
   */
  readonly resultsExpiration?: Duration;
}

/** The tables and saved queries of a set of connectors. */
export function catalogContents(connectors: readonly ConnectorDefinition[]): {
  tables: TableDefinition[];
  queries: { vendor: string; query: SavedQuery }[];
} {
  const vendors = connectors.map((c) => c.vendor);
  const reports = [...new Set(connectors.flatMap((c) => c.reports.map((r) => r.name)))].sort();
  const tables: TableDefinition[] = [
    ...connectors.flatMap((c) => c.reports.map((report) => reportTable(c.vendor, report))),
    manifestTable(vendors, reports),
    outcomesTable(vendors),
    expectationsTable(),
  ];
  const queries = [
    ...connectors.flatMap((c) => c.queries.map((query) => ({ vendor: c.vendor, query }))),
    ...archiveQueries.map((query) => ({ vendor: 'archive', query })),
  ];
  return { tables, queries };
}

/** Glue table parameters for partition projection of one table definition. */
export function projectionParameters(table: TableDefinition, bucketName: string): Record<string, string> {
  if (table.partitionKeys.length === 0) return {};
  const parameters: Record<string, string> = {
    'projection.enabled': 'true',
    'storage.location.template': `s3://${bucketName}/${table.locationTemplate}`,
  };
  for (const key of table.partitionKeys) {
    parameters[`projection.${key.name}.type`] = key.projection.type;
    if (key.projection.type === 'date') {
      parameters[`projection.${key.name}.format`] = 'yyyy-MM-dd';
      parameters[`projection.${key.name}.range`] = `${PROJECTION_START_DATE},NOW`;
      parameters[`projection.${key.name}.interval`] = '1';
      parameters[`projection.${key.name}.interval.unit`] = 'DAYS';
    } else {
      if (key.projection.values.length === 0) {
        throw new Error(`table ${table.name}: partition key ${key.name} needs at least one enum value; received none`);
      }
      parameters[`projection.${key.name}.values`] = key.projection.values.join(',');
    }
  }
  return parameters;
}

/**
 * The `ViewOriginalText` of an Athena view: the view's definition as Athena's CREATE VIEW stores
 * it. No owner is recorded: Athena checks the querying principal's own access to the tables and
 * objects under a view (a view cannot grant access to data in S3), so there is no definer to name.
 */
export function prestoViewText(view: ViewDefinition, databaseName: string): string {
  const definition = {
    originalSql: view.sql,
    catalog: 'awsdatacatalog',
    schema: databaseName,
    columns: view.columns.map((c) => ({ name: c.name, type: c.prestoType })),
  };
  return `/* Presto View: ${Buffer.from(JSON.stringify(definition), 'utf8').toString('base64')} */`;
}

export class ReportCatalog extends Construct {
  public readonly database: glue.Database;
  /** the manifest table and every report's objects table */
  public readonly tables: glue.CfnTable[] = [];
  /** every view: each report's view of its published rows, and the views over them */
  public readonly views: glue.CfnTable[] = [];
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly resultsBucket: s3.Bucket;
  public readonly resultsKey: kms.Key;
  public readonly namedQueries: athena.CfnNamedQuery[] = [];

  constructor(scope: Construct, id: string, props: ReportCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.database = new glue.Database(this, 'Database', {
      databaseName: props.databaseName,
      description: 'Identity and MFA reports archived from SaaS vendors',
    });

    const { tables, queries } = catalogContents(props.connectors);
    this.addTables(tables, props);

    this.resultsKey = new kms.Key(this, 'ResultsKey', {
      description: 'Encrypts Athena query results of the identity report archive',
      enableKeyRotation: true,
    });
    this.resultsBucket = this.resultsBucketFor(this.resultsKey, props);

    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workgroupName,
      description: 'Queries over the identity report archive',
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: (props.bytesScannedCutoffPerQuery ?? Size.gibibytes(10)).toBytes(),
        engineVersion: { selectedEngineVersion: 'AUTO' },
        resultConfiguration: {
          outputLocation: this.resultsBucket.s3UrlForObject('results/'),
          expectedBucketOwner: stack.account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.resultsKey.keyArn },
        },
      },
    });

    for (const { vendor, query } of queries) {
      this.namedQueries.push(
        new athena.CfnNamedQuery(this, `${pascalCase(vendor)}${pascalCase(query.name)}Query`, {
          // the name the README lists: each query's name starts with its vendor's id already
          name: query.name,
          description: query.description,
          database: this.database.databaseName,
          // Ref of the workgroup: the query is created after it
          workGroup: this.workgroup.ref,
          queryString: query.sql,
        }),
      );
    }
  }

  /**
   * The Glue tables, then the report views over them. A view keeps the construct id its name had
   * as a table (`<Name>Table`), so on a stack deployed before the views CloudFormation updates that
   * resource into the view (same name), and the objects table is a new resource under its new
   * name; the other way round, the new view would be created while the old table, removed only in
   * the cleanup phase, still held the name.
   */
  private addTables(tables: readonly TableDefinition[], props: ReportCatalogProps): void {
    const bucketName = props.archiveBucket.bucketName;
    const byName = new Map<string, glue.CfnTable>();
    for (const table of tables) {
      const name = isReportTable(table) ? objectsTableName(table.name) : table.name;
      const description = isReportTable(table)
        ? `Every data object of ${table.name}, including unpublished ones (no manifest names them); query the view ${table.name}. ${table.description}`
        : table.description;
      byName.set(name, this.glueTable(table, name, description, bucketName));
    }
    this.tables.push(...byName.values());
    for (const definition of archiveViews(tables)) {
      const view = this.glueView(definition, props.databaseName);
      // Glue does not check a view's sources; the order only keeps a deploy's views after them
      for (const name of definition.sources) {
        const source = byName.get(name);
        if (source) view.node.addDependency(source);
      }
      byName.set(definition.name, view);
      this.views.push(view);
    }
  }

  /** A view, stored as Athena stores a CREATE VIEW. */
  private glueView(view: ViewDefinition, databaseName: string): glue.CfnTable {
    return new glue.CfnTable(this, `${pascalCase(view.name)}Table`, {
      catalogId: Stack.of(this).account,
      databaseName: this.database.databaseName,
      tableInput: {
        name: view.name,
        description: view.description,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: prestoViewText(view, databaseName),
        viewExpandedText: '/* Presto View */',
        storageDescriptor: {
          columns: view.columns.map((c) => ({ name: c.name, type: c.glueType, comment: c.comment })),
        },
      },
    });
  }

  /** One Glue table over the archive, read by column name with partitions projected. */
  private glueTable(table: TableDefinition, name: string, description: string, bucketName: string): glue.CfnTable {
    return new glue.CfnTable(this, `${pascalCase(name)}Table`, {
      catalogId: Stack.of(this).account,
      databaseName: this.database.databaseName,
      tableInput: {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'json',
          ...projectionParameters(table, bucketName),
        },
        partitionKeys: table.partitionKeys.map((key) => ({ name: key.name, type: 'string', comment: key.comment })),
        storageDescriptor: {
          location: `s3://${bucketName}/${table.prefix}`,
          inputFormat: glue.InputFormat.TEXT.className,
          outputFormat: glue.OutputFormat.HIVE_IGNORE_KEY_TEXT.className,
          serdeInfo: {
            serializationLibrary: glue.SerializationLibrary.OPENX_JSON.className,
            // a malformed line fails the query instead of being read as a row of nulls
            parameters: { 'ignore.malformed.json': 'FALSE' },
          },
          columns: table.columns.map((column) => ({
            name: column.name,
            type: column.glueType,
            comment: column.comment,
          })),
        },
      },
    });
  }

  /** The workgroup's result location: KMS-encrypted, TLS only, results expire. */
  private resultsBucketFor(key: kms.IKey, props: ReportCatalogProps): s3.Bucket {
    return new s3.Bucket(this, 'Results', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: props.accessLogsBucket ? 'athena-results/' : undefined,
      lifecycleRules: [
        {
          id: 'ExpireResults',
          expiration: props.resultsExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
