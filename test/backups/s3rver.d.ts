/** The few parts of s3rver (a loopback S3-compatible server) the backup tests use. */
declare module 's3rver' {
  export default class S3rver {
    constructor(options: { port?: number; address?: string; silent?: boolean; directory: string; configureBuckets?: Array<{ name: string }> })
    run(): Promise<{ address: string; port: number }>
    close(): Promise<void>
  }
}
