/**
 * Who signs digests: the deployed stack's asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY: the
 * private key never leaves KMS), or, for the local runner, a P-256 key kept in the workspace.
 * Both produce the same signature (DER ECDSA over SHA-256), checked with the public key alone.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  verify,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { sha256Hex } from './digest.ts';

export interface DigestSigner {
  /** KMS key ARN, or `local:<fingerprint>` */
  readonly keyId: string;
  /** the public key, DER SubjectPublicKeyInfo */
  publicKey(): Promise<Buffer>;
  /** DER ECDSA P-256 signature over SHA-256 of `bytes` */
  sign(bytes: Buffer): Promise<Buffer>;
}

/** The SHA-256 of a public key (DER SubjectPublicKeyInfo): how digests name their key. */
export function fingerprint(publicKeyDer: Buffer): string {
  return sha256Hex(publicKeyDer);
}

/** True when `signature` is `publicKeyDer`'s signature of `bytes`. */
export function signatureValid(bytes: Buffer, signature: Buffer, publicKeyDer: Buffer): boolean {
  const key = createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
  try {
    return verify('sha256', bytes, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** Signs with a KMS key: the message's SHA-256 is sent, so a digest of any size can be signed. */
export function kmsSigner(kms: KMSClient, keyId: string): DigestSigner {
  let publicKey: Promise<Buffer> | undefined;
  return {
    keyId,
    publicKey() {
      publicKey ??= kms
        .send(new GetPublicKeyCommand({ KeyId: keyId }))
        .then((output) => Buffer.from(output.PublicKey ?? new Uint8Array()));
      return publicKey;
    },
    async sign(bytes) {
      const output = await kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: createHash('sha256').update(bytes).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      return Buffer.from(output.Signature ?? new Uint8Array());
    },
  };
}

/** Signs with a P-256 key in a PEM file, made on first use (the local runner's workspace). */
export function localSigner(pemPath: string): DigestSigner {
  const privateKey = loadOrCreate(pemPath);
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return {
    keyId: `local:${fingerprint(der)}`,
    publicKey: async () => der,
    sign: async (bytes) => {
      const { sign } = await import('node:crypto');
      return sign('sha256', bytes, { key: privateKey, dsaEncoding: 'der' });
    },
  };
}

function loadOrCreate(pemPath: string): KeyObject {
  if (existsSync(pemPath)) return createPrivateKey(readFileSync(pemPath));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(pemPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return privateKey;
}
