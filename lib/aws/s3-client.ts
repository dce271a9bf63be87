import { S3Client } from '@aws-sdk/client-s3';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

/** One S3 client per container; parts of a multipart upload are large, so a request may take longer. */
export const s3 = new S3Client({ requestHandler: { ...AWS_REQUEST_LIMITS, requestTimeout: 120_000 } });
