/**
 * WinZip AES (AE-1/AE-2) decryption on node:crypto, for the benchmark's reference only: the
 * fastest decrypt this machine can do, to put next to the archiver's (zip.js, JavaScript AES).
 *
 * Layout of an encrypted entry's data: salt (8/12/16 bytes) | password verifier (2) | ciphertext |
 * authentication code (10). Keys: PBKDF2-HMAC-SHA1(password, salt, 1000) → AES key | HMAC key |
 * verifier. AES-CTR with a 128-bit little-endian counter starting at 1 (not the big-endian counter
 * of OpenSSL's aes-*-ctr), so the keystream is AES-ECB over counter blocks. The HMAC-SHA1 covers
 * the ciphertext. Decrypting to a valid deflate stream whose output hashes right is the test.
 */
import { createCipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

const SALT_BYTES = { 1: 8, 2: 12, 3: 16 } as const;
const KEY_BYTES = { 1: 16, 2: 24, 3: 32 } as const;
const VERIFIER_BYTES = 2;
const AUTH_CODE_BYTES = 10;
const BLOCK = 16;

export interface WinZipAesEntry {
  readonly strength: 1 | 2 | 3;
  /** the entry's raw data: salt, verifier, ciphertext and authentication code */
  readonly data: Buffer;
}

/**
 * Decrypts slice by slice (each a multiple of 16 bytes but the last), lazily: a consumer such as
 * an inflate stream pulls the next slice when it wants it. Throws at the end if the HMAC fails.
 */
export function* decryptWinZipAes(entry: WinZipAesEntry, password: string, sliceBytes: number): Generator<Buffer> {
  if (sliceBytes % BLOCK !== 0) throw new Error(`slice size must be a multiple of ${BLOCK}; received ${sliceBytes}`);
  const saltBytes = SALT_BYTES[entry.strength];
  const keyBytes = KEY_BYTES[entry.strength];
  const { data } = entry;
  const salt = data.subarray(0, saltBytes);
  const verifier = data.subarray(saltBytes, saltBytes + VERIFIER_BYTES);
  const ciphertext = data.subarray(saltBytes + VERIFIER_BYTES, data.length - AUTH_CODE_BYTES);
  const authCode = data.subarray(data.length - AUTH_CODE_BYTES);
  const derived = pbkdf2Sync(password, salt, 1000, 2 * keyBytes + VERIFIER_BYTES, 'sha1');
  if (!derived.subarray(2 * keyBytes).equals(verifier)) throw new Error('WinZip AES: wrong password (verifier)');
  const hmac = createHmac('sha1', derived.subarray(keyBytes, 2 * keyBytes));
  const ecb = createCipheriv(`aes-${keyBytes * 8}-ecb`, derived.subarray(0, keyBytes), null);
  ecb.setAutoPadding(false);
  const counters = Buffer.alloc(sliceBytes);
  let counter = 1;
  for (let offset = 0; offset < ciphertext.length; offset += sliceBytes) {
    const slice = ciphertext.subarray(offset, Math.min(offset + sliceBytes, ciphertext.length));
    hmac.update(slice);
    const blocks = Math.ceil(slice.length / BLOCK);
    for (let b = 0; b < blocks; b++) {
      counters.writeUInt32LE(counter % 0x1_0000_0000, b * BLOCK);
      counters.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), b * BLOCK + 4);
      counter++;
    }
    const keystream = ecb.update(counters.subarray(0, blocks * BLOCK));
    const plain = Buffer.allocUnsafeSlow(blocks * BLOCK);
    slice.copy(plain);
    xorInto(plain, keystream);
    yield plain.subarray(0, slice.length);
  }
  const expected = hmac.digest().subarray(0, AUTH_CODE_BYTES);
  if (!timingSafeEqual(expected, authCode)) throw new Error('WinZip AES: authentication code mismatch');
}

/** `target ^= source`, a word at a time where both are 4-byte aligned. */
function xorInto(target: Buffer, source: Buffer): void {
  const length = Math.min(target.length, source.length);
  const words = length >>> 2;
  if (target.byteOffset % 4 === 0 && source.byteOffset % 4 === 0) {
    const t = new Int32Array(target.buffer, target.byteOffset, words);
    const s = new Int32Array(source.buffer, source.byteOffset, words);
    for (let i = 0; i < words; i++) t[i] = t[i]! ^ s[i]!;
  } else {
    for (let i = 0; i < words * 4; i++) target[i] = target[i]! ^ source[i]!;
  }
  for (let i = words * 4; i < length; i++) target[i] = target[i]! ^ source[i]!;
}
