/**
 * The identity report archive, composed from one construct per concern.
 *
 * 1. `Archive`: the Object Lock bucket, its key and its access log bucket.
 * 2. `Alerts`: the alert topic every alarm below publishes to.
 * 3. `ManifestDigest`: the daily signed digest of the published manifests, and its signing key.
 * 4. `Catalog`: Glue tables (one per enabled report, plus the manifests) and the Athena workgroup.
 * 5. One `<Vendor>Pipeline` per enabled vendor: functions, state machine and schedule, with
 *    their alarms.
 * 6. `Freshness`: the hourly check of every vendor's outcome records, and its alarms.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { definitionFor, definitions } from '../lambdas/connectors/registry.ts';
import { Alerts } from './alerts.ts';
import { ArchiveBucket } from './archive-bucket.ts';
import { type AppConfig, enabledVendors } from './config.ts';
import { Freshness } from './freshness.ts';
import { ManifestDigest } from './manifest-digest.ts';
import { pascalCase } from './naming.ts';
import { ARCHIVE_BUCKET_OUTPUT, DATABASE_OUTPUT, stateMachineOutputKey, WORKGROUP_OUTPUT } from './outputs.ts';
import { ReportCatalog } from './report-catalog.ts';
import { PipelineSectionSchema, VendorPipeline } from './vendor-pipeline.ts';

export interface ArchiveStackProps extends StackProps {
  /** the validated configuration (`loadConfig(path, 'deploy')`) */
  readonly config: AppConfig;
  /** version recorded in every manifest */
  readonly softwareVersion: string;
}

export class ArchiveStack extends Stack {
  public readonly archive: ArchiveBucket;
  public readonly alerts: Alerts;
  public readonly catalog: ReportCatalog;
  public readonly digest: ManifestDigest;
  public readonly pipelines: VendorPipeline[] = [];

  constructor(scope: Construct, id: string, props: ArchiveStackProps) {
    super(scope, id, props);
    const { config } = props;
    const settings = config.archive;

    this.archive = new ArchiveBucket(this, 'Archive', {
      objectLockMode: settings.objectLock.mode,
      objectLockDays: settings.objectLock.days,
      allowWeakRetention: settings.objectLock.allowWeakRetention,
      disposeAfterDays: settings.objectLock.disposeAfterDays,
      breakGlassPrincipalArn: settings.breakGlassPrincipalArn,
      deployRoleArn: settings.deployRoleArn,
      legalHoldPrincipalArns: settings.legalHoldPrincipalArns,
      replication: settings.replication,
      removalPolicy: settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      infrequentAccessDays: settings.transitions.infrequentAccessDays,
      glacierInstantRetrievalDays: settings.transitions.glacierInstantRetrievalDays,
      deepArchiveDays: settings.transitions.deepArchiveDays,
      accessLogRetentionDays: settings.accessLogRetentionDays,
    });

    this.alerts = new Alerts(this, 'Alerts', { topicName: config.alerts.topicName, emails: config.alerts.emails });
    this.alerts.watchKey('ArchiveKey', this.archive.key);

    this.digest = new ManifestDigest(this, 'ManifestDigest', {
      archiveBucket: this.archive.bucket,
      archiveKey: this.archive.key,
      protection: {
        deployRoleArn: this.archive.deployRoleArn,
        breakGlassPrincipalArn: settings.breakGlassPrincipalArn,
        deployRoleMayDelete: settings.removalPolicy === 'destroy',
      },
    });
    this.digest.addAlarms(this.alerts);

    const vendors = enabledVendors(config).map(([vendor, raw]) => {
      const section = PipelineSectionSchema.parse(raw);
      return { vendor, section, connector: definitionFor(vendor) };
    });

    this.catalog = new ReportCatalog(this, 'Catalog', {
      archiveBucket: this.archive.bucket,
      databaseName: config.catalog.databaseName,
      workgroupName: config.catalog.workgroupName,
      accessLogsBucket: this.archive.accessLogsBucket,
      connectors: definitions,
    });

    for (const { vendor, section } of vendors) {
      const pipeline = new VendorPipeline(this, `${pascalCase(vendor)}Pipeline`, {
        vendor,
        section,
        archiveBucket: this.archive.bucket,
        archiveKey: this.archive.key,
        limits: settings,
        eventSource: config.events.source,
        softwareVersion: props.softwareVersion,
      });
      this.pipelines.push(pipeline);
      pipeline.addAlarms(this.alerts);

      new CfnOutput(this, stateMachineOutputKey(vendor), {
        description: `State machine that archives ${vendor} reports (start it by hand to backfill a date)`,
        value: pipeline.stateMachine.stateMachineArn,
      });
    }

    new Freshness(this, 'Freshness', {
      archiveBucket: this.archive.bucket,
      archiveKey: this.archive.key,
      vendors: vendors.map(({ vendor, section }) => ({
        vendor,
        schedule: section.schedule,
        timeZone: section.scheduleTimezone,
      })),
      graceHours: config.alerts.freshnessGraceHours,
    }).addAlarms(this.alerts);

    new CfnOutput(this, ARCHIVE_BUCKET_OUTPUT, {
      description: 'The compliance archive (Object Lock)',
      value: this.archive.bucket.bucketName,
    });
    new CfnOutput(this, WORKGROUP_OUTPUT, {
      description: 'Athena workgroup for queries over the archive',
      value: this.catalog.workgroup.ref,
    });
    new CfnOutput(this, DATABASE_OUTPUT, {
      description: 'Glue database of the report tables',
      value: this.catalog.database.databaseName,
    });
  }
}
