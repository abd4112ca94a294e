/**
 * One paging pass of a JSON API, handed to the archiver as two sources that fill together.
 *
 * 1. `original`: every page body exactly as received, back to back in request order (format
 *    `json-pages`); its `parts()` names each page with its length and SHA-256, so page k starts
 *    at the sum of the earlier lengths.
 * 2. `derived`: the connector's NDJSON of the same pages (role `derived`: parsed into the table,
 *    never stored as an original); its `dropped()` counts what the connector left out.
 * 3. The archiver opens every source at once; the first `open()` reads the first page (so an
 *    auth failure surfaces there), and the pass then writes each page to both streams, waiting
 *    for whichever reader is behind. A failure errors both streams: never a clean short end.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ManifestEntry } from './archive/manifest.ts';
import { VendorRequestError } from './errors.ts';
import type { DownloadedBody, ReportSource } from './types.ts';

/** One page of the pass. */
export interface PassPage {
  /** which request this was, for the manifest entry (e.g. `page 3: <window> pageStart=201`) */
  readonly name: string;
  /** the response body's bytes, untouched */
  readonly raw: Buffer;
  /** what the page adds to the derived NDJSON (may be empty) */
  readonly derived: Buffer;
}

export interface PagedPass {
  /** the pages in request order; the first is read by the first `open()` */
  readonly pages: AsyncIterator<PassPage>;
  /** bytes the derived stream ends with (e.g. `[]` for a window without events); read after the last page */
  readonly trailer?: () => Buffer;
  /** what the connector left out of the derived stream, by reason; read after the last page */
  readonly dropped: () => Record<string, number>;
}

export interface PagedSourcesOptions {
  readonly originalFileName: string;
  readonly derivedFileName: string;
  /** the first page's Content-Type, as the vendor served it */
  readonly contentType?: string;
  /** starts the pass (called once, by the first `open()`) */
  start(): Promise<PagedPass>;
}

export function pagedSources(options: PagedSourcesOptions): [derived: ReportSource, original: ReportSource] {
  let started: Promise<Started> | undefined;
  const begin = (): Promise<Started> => {
    started ??= startPass(options);
    return started;
  };
  const derived: ReportSource = {
    fileName: options.derivedFileName,
    role: 'derived',
    async open(): Promise<DownloadedBody> {
      const pass = await begin();
      return { body: pass.derived, contentType: 'application/x-ndjson', dropped: pass.source.dropped };
    },
  };
  const original: ReportSource = {
    fileName: options.originalFileName,
    role: 'original',
    format: 'json-pages',
    async open(): Promise<DownloadedBody> {
      const pass = await begin();
      return {
        body: pass.original,
        ...(pass.contentType ? { contentType: pass.contentType } : {}),
        parts: () => [...pass.parts],
      };
    },
  };
  return [derived, original];
}

interface Started {
  readonly source: PagedPass;
  readonly derived: PassThrough;
  readonly original: PassThrough;
  readonly parts: ManifestEntry[];
  readonly contentType?: string;
}

async function startPass(options: PagedSourcesOptions): Promise<Started> {
  const source = await options.start();
  const first = await source.pages.next();
  const started: Started = {
    source,
    derived: quiet(new PassThrough()),
    original: quiet(new PassThrough()),
    parts: [],
    ...(options.contentType ? { contentType: options.contentType } : {}),
  };
  void pump(started, first).catch((error: unknown) => {
    const reason = error instanceof Error ? error : new Error(String(error));
    started.derived.destroy(reason);
    started.original.destroy(reason);
    // stop the vendor pass too (a generator left suspended would hold its connection)
    void source.pages.return?.().catch(() => {});
  });
  return started;
}

async function pump(pass: Started, first: IteratorResult<PassPage>): Promise<void> {
  for (let next = first; !next.done; next = await pass.source.pages.next()) {
    const page = next.value;
    pass.parts.push({
      name: page.name,
      bytes: page.raw.length,
      sha256: createHash('sha256').update(page.raw).digest('hex'),
      encryption: 'none',
    });
    await Promise.all([write(pass.original, page.raw), write(pass.derived, page.derived)]);
  }
  const trailer = pass.source.trailer?.();
  if (trailer && trailer.length > 0) await write(pass.derived, trailer);
  pass.original.end();
  pass.derived.end();
}

/** A failure reaches each stream's reader; a stream nobody opened must not crash the process with it. */
function quiet(stream: PassThrough): PassThrough {
  stream.on('error', () => {});
  return stream;
}

/** Writes and waits while the reader is behind; a destroyed stream ends the pass. */
async function write(stream: Writable, bytes: Buffer): Promise<void> {
  if (bytes.length === 0) return;
  if (stream.destroyed) throw stopped(stream);
  if (stream.write(bytes)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = () => {
      stream.off('drain', settle);
      stream.off('close', settle);
      if (stream.destroyed) reject(stopped(stream));
      else resolve();
    };
    stream.on('drain', settle);
    stream.on('close', settle);
  });
}

function stopped(stream: Writable): Error {
  return stream.errored ?? new Error('the archive stopped reading the paged source');
}

/**
 * A page body as bytes (kept for the original, then parsed). Transport failures keep their
 * retryable errors; a body past `limitBytes` is a VendorRequestError.
 */
export async function readPageBytes(body: Readable, limitBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      body.destroy();
      throw new VendorRequestError(`expected ${what} of at most ${limitBytes} bytes; received more`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
