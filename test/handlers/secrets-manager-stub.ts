/**
 * A Secrets Manager endpoint on loopback that answers GetSecretValue (JSON 1.1 protocol) from a
 * map, so a deployed handler's own SDK client can be pointed at it (AWS_ENDPOINT_URL_SECRETS_MANAGER).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Loopback, startLoopback } from '../support/loopback.ts';

export interface SecretsManagerStub extends Loopback {
  /** SecretId of every GetSecretValue received, in order */
  readonly reads: string[];
}

function reply(res: ServerResponse, status: number, body: object, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startSecretsManagerStub(secrets: ReadonlyMap<string, string>): Promise<SecretsManagerStub> {
  const reads: string[] = [];
  const loopback = await startLoopback((req, res) => {
    void bodyOf(req).then((text) => {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        reply(
          res,
          400,
          { __type: 'UnknownOperationException', message: `not stubbed: ${target}` },
          'UnknownOperationException',
        );
        return;
      }
      const { SecretId } = JSON.parse(text) as { SecretId: string };
      reads.push(SecretId);
      const value = secrets.get(SecretId);
      if (value === undefined) {
        const message = "Secrets Manager can't find the specified secret.";
        reply(res, 400, { __type: 'ResourceNotFoundException', message }, 'ResourceNotFoundException');
        return;
      }
      reply(res, 200, {
        ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}-AbCdEf`,
        Name: SecretId,
        SecretString: value,
        VersionId: '00000000-0000-4000-8000-000000000000',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  return { ...loopback, reads };
}
