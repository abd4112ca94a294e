// s3rver ships no types; this covers the part the local pipeline uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type FilesystemStore from 's3rver/lib/stores/filesystem.js';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
  }

  /** The part of Koa's request context (koa 2) a middleware in front of s3rver's router reads and sets. */
  export interface S3rverContext {
    readonly method: string;
    /** the URL path as sent (percent-encoded); path-style once s3rver's vhost middleware ran */
    readonly path: string;
    readonly query: Readonly<Record<string, string | string[] | undefined>>;
    /** a request header, '' when absent */
    get(header: string): string;
    status: number;
    type: string;
    body: unknown;
  }

  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

  export default class S3rver {
    constructor(options: S3rverOptions);
    /** the store the controllers use (`ctx.store`); set by the constructor */
    store: FilesystemStore;
    readonly context: { store: FilesystemStore };
    /** Koa's middleware list, composed when the server starts listening; the router is last */
    readonly middleware: S3rverMiddleware[];
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}

declare module 's3rver/lib/models/object.js' {
  import type { Readable } from 'node:stream';

  /** An object as s3rver's store passes it: `content` is a stream (or a Buffer) on a write. */
  export default class S3Object {
    /** the request headers kept as metadata, besides every `x-amz-meta-*` */
    static readonly ALLOWED_METADATA: readonly string[];
    constructor(bucket: string, key: string, content: Readable | Buffer | null, metadata: Record<string, unknown>);
    readonly bucket: string;
    readonly key: string;
    content: Readable | Buffer | null;
    readonly metadata: Record<string, string>;
    range?: { start: number; end: number };
    readonly size: number;
  }
}

declare module 's3rver/lib/stores/filesystem.js' {
  import type S3Object from 's3rver/lib/models/object.js';

  /** s3rver's store: `<root>/<bucket>/<key>._S3rver_object` plus its `.md5` and `._S3rver_metadata.json`. */
  export default class FilesystemStore {
    constructor(rootDirectory: string);
    readonly rootDirectory: string;
    getBucketPath(bucket: string): string;
    /** `<root>/<bucket>/<key>._S3rver_<resource>` (resource `object`, `object.md5`, `metadata.json`, …) */
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    getBucket(bucket: string): Promise<{ name: string } | null>;
    getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
    getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null>;
    existsObject(bucket: string, key: string): Promise<boolean>;
    putObject(object: S3Object): Promise<{ size: number; md5: string }>;
    copyObject(
      srcBucket: string,
      srcKey: string,
      destBucket: string,
      destKey: string,
      replacementMetadata: Record<string, unknown> | null,
    ): Promise<Record<string, string>>;
    deleteObject(bucket: string, key: string): Promise<void>;
  }
}
