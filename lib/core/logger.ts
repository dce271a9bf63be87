import { Logger } from '@aws-lambda-powertools/logger';
import { observabilitySettings } from './settings.js';

/** One structured JSON logger for every function; POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL tune it. */
export const logger = new Logger({ serviceName: observabilitySettings().serviceName });
