// s3rver ships no type definitions; this covers the part the local stack uses.
declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    configureBuckets?: Array<{ name: string }>;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    /** Removes every bucket and object from the store. */
    reset(): void;
    /** Creates the buckets of `configureBuckets` again. */
    configureBuckets(): Promise<void>;
  }
}
