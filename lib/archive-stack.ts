/**
 * The identity report archive, composed from one construct per concern.
 *
 * 1. `Archive`: the Object Lock bucket, its key and its access log bucket.
 * 2. `Alerts`: the alert topic every alarm below publishes to.
 * 3. `ManifestDigest`: the daily signed digest of the published manifests, and its signing key.
 * 4. `Catalog`: Glue tables (one per enabled report, plus the manifests) and the Athena workgroup.
 * 5. One `<Vendor>Pipeline` per enabled vendor: functions, state machine and schedule, with
 *    their alarms.
 * 6. `EventSchemas`: the schema registry of the pipelines' events; `EventForwarding` when
 *    `events.targetBusArn` names a bus to forward them to.
 * 7. `Freshness`: the hourly check of every vendor's outcome records, and its alarms.
 * 8. `Dashboard`: the deployment's CloudWatch dashboard over all of it.
 * 9. `AuditorAccess`: the policy (and optional role) with exactly what an Athena query needs.
 */
import { CfnOutput, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { definitionFor, definitions } from '../lambdas/connectors/registry.ts';
import { Alerts } from './alerts.ts';
import { ArchiveBucket } from './archive-bucket.ts';
import { AuditorAccess } from './auditor-access.ts';
import { type AppConfig, enabledVendors } from './config.ts';
import { ArchiveDashboard } from './dashboard.ts';
import { EventForwarding } from './event-forwarding.ts';
import { EventSchemas } from './event-schemas.ts';
import { Freshness } from './freshness.ts';
import { ManifestDigest } from './manifest-digest.ts';
import { pascalCase } from './naming.ts';
import {
  ARCHIVE_BUCKET_OUTPUT,
  AUDITOR_POLICY_OUTPUT,
  AUDITOR_ROLE_OUTPUT,
  DASHBOARD_URL_OUTPUT,
  DATABASE_OUTPUT,
  stateMachineOutputKey,
  WORKGROUP_OUTPUT,
} from './outputs.ts';
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
  public readonly auditorAccess: AuditorAccess;
  public readonly pipelines: VendorPipeline[] = [];
  public readonly dashboard: ArchiveDashboard;

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

    this.alerts = new Alerts(this, 'Alerts', {
      topicName: config.alerts.topicName,
      emails: config.alerts.emails,
      runbookBaseUrl: config.alerts.runbookBaseUrl,
    });
    this.alerts.watchKey('ArchiveKey', this.archive.key);
    this.alerts.watchReports({ eventSource: config.events.source, notifySkipped: config.alerts.notifySkipped });

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
      bytesScannedCutoffPerQuery: Size.gibibytes(config.catalog.bytesScannedCutoffGb),
    });
    this.auditorAccess = new AuditorAccess(this, 'AuditorAccess', {
      workgroup: this.catalog.workgroup,
      database: this.catalog.database,
      archiveBucket: this.archive.bucket,
      archiveKey: this.archive.key,
      resultsBucket: this.catalog.resultsBucket,
      resultsKey: this.catalog.resultsKey,
      principalArns: config.catalog.auditorPrincipalArns,
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

    new EventSchemas(this, 'EventSchemas', { source: config.events.source });
    if (config.events.targetBusArn) {
      new EventForwarding(this, 'EventForwarding', {
        source: config.events.source,
        targetBusArn: config.events.targetBusArn,
        alerts: this.alerts,
      });
    }

    const freshness = new Freshness(this, 'Freshness', {
      archiveBucket: this.archive.bucket,
      archiveKey: this.archive.key,
      vendors: vendors.map(({ vendor, section }) => ({
        vendor,
        schedule: section.schedule,
        timeZone: section.scheduleTimezone,
      })),
      graceHours: config.alerts.freshnessGraceHours,
    });
    freshness.addAlarms(this.alerts);

    this.dashboard = new ArchiveDashboard(this, 'Dashboard', { pipelines: this.pipelines });
    this.dashboard.addFreshnessTable(freshness.checker.logGroup);
    new CfnOutput(this, DASHBOARD_URL_OUTPUT, {
      description: 'CloudWatch dashboard of the deployment',
      value: this.dashboard.url,
    });

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
    new CfnOutput(this, AUDITOR_POLICY_OUTPUT, {
      description: 'Managed policy to attach to an auditor: Athena queries over the archive, read only',
      value: this.auditorAccess.policy.managedPolicyArn,
    });
    if (this.auditorAccess.role) {
      new CfnOutput(this, AUDITOR_ROLE_OUTPUT, {
        description: 'Role the configured auditors assume to query the archive',
        value: this.auditorAccess.role.roleArn,
      });
    }
  }
}
