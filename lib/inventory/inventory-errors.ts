import { responderErrorClass } from '../core/errors.js';

/** No inventory export exists yet to answer from. */
export class SnapshotNotFoundError extends responderErrorClass('SnapshotNotFoundError', 'snapshot_not_found', 404) {}

/** The answer would exceed what API Gateway and Lambda can return (6 MB). */
export class ResponseTooLargeError extends responderErrorClass('ResponseTooLargeError', 'response_too_large', 413) {}
