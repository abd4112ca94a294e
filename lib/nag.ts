/**
 * cdk-nag acknowledgements: narrow (one finding on one construct) and with their evidence.
 * cdk-nag v3 reads `Validations.of(construct).acknowledge()` on the construct or an ancestor.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The finding id cdk-nag (AwsSolutions-IAM5) gives a wildcard resource, e.g.
 * `AwsSolutions-IAM5[Resource::<ArchiveBucket1234.Arn>/data/vendor=x/*]`.
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resource))}]`;
}

/** cdk-nag's rendering of a CloudFormation value: `Ref` → `<Id>`, `Fn::GetAtt` → `<Id.Attr>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [id, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(id)}.${flatten(attribute)}>`;
    }
    if ('Ref' in v) return `<${flatten(v.Ref)}>`;
  }
  return JSON.stringify(value);
}
