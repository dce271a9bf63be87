import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger for every function; POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL tune it. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pam-session-responder' });
