/**
 * The deployed signer asks KMS to sign the SHA-256 of the digest (MessageType DIGEST, so a digest
 * of any size fits KMS's 4 KiB message limit) with ECDSA_SHA_256, and KMS's answer verifies with
 * the public key as a locally made signature does. KMS is played by a P-256 key in the test: an
 * ECDSA_SHA_256 signature over a given SHA-256 is what node's sign('sha256') makes of the message.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { kmsSigner, signatureValid } from '../../lambdas/digest/signer.ts';

const kms = mockClient(KMSClient);
afterAll(() => kms.restore());

describe('kmsSigner', () => {
  it('signs the message digest with ECDSA_SHA_256, and the signature verifies with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = publicKey.export({ format: 'der', type: 'spki' });
    const message = Buffer.from('{"sequence":1}\n'.repeat(500));
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: new Uint8Array(der) });
    kms.on(SignCommand).callsFake(() => ({ Signature: new Uint8Array(sign('sha256', message, privateKey)) }));

    const signer = kmsSigner(new KMSClient({ region: 'eu-west-1' }), 'arn:aws:kms:eu-west-1:111122223333:key/abc');
    const signature = await signer.sign(message);

    const input = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(input?.Message as Uint8Array)).toEqual(createHash('sha256').update(message).digest());
    expect(signatureValid(message, signature, await signer.publicKey())).toBe(true);
    expect(signatureValid(Buffer.concat([message, Buffer.from(' ')]), signature, der)).toBe(false);
  });
});
