/**
 * Names of the stack outputs that tools outside the stack read (`npm run backfill` finds the
 * bucket and a vendor's state machine by them). Output keys are a contract, like construct ids.
 */
export const ARCHIVE_BUCKET_OUTPUT = 'ArchiveBucketName';
export const WORKGROUP_OUTPUT = 'AthenaWorkGroup';
export const DATABASE_OUTPUT = 'GlueDatabase';
export const AUDITOR_POLICY_OUTPUT = 'AuditorPolicyArn';
export const AUDITOR_ROLE_OUTPUT = 'AuditorRoleArn';
export const DASHBOARD_URL_OUTPUT = 'DashboardUrl';

/** `StateMachineArn<Vendor>`: the vendor id with its first letter upper-cased. */
export function stateMachineOutputKey(vendor: string): string {
  const key = `StateMachineArn${vendor.charAt(0).toUpperCase()}${vendor.slice(1)}`;
  if (!/^[A-Za-z0-9]+$/.test(key)) {
    throw new Error(
      `vendor "${vendor}" cannot name a stack output: output keys are alphanumeric; expected a vendor id of letters and digits`,
    );
  }
  return key;
}
