import type { BatchUpdateFindingsCommandInput, BatchUpdateFindingsCommandOutput } from '@aws-sdk/client-securityhub';
import { AWS_REQUEST_LIMITS } from './request-limits.js';

type SecurityHubModule = typeof import('@aws-sdk/client-securityhub');
let client:
  | Promise<{ module: SecurityHubModule; client: InstanceType<SecurityHubModule['SecurityHubClient']> }>
  | undefined;

/**
 * Security Hub's BatchUpdateFindings. The client is loaded on first use, by the paths that act on
 * a Security Hub finding only, so no other path's cold start pays for it.
 */
export async function batchUpdateFindings(
  input: BatchUpdateFindingsCommandInput,
): Promise<BatchUpdateFindingsCommandOutput> {
  client ??= import('@aws-sdk/client-securityhub').then((module) => ({
    module,
    client: new module.SecurityHubClient({ requestHandler: AWS_REQUEST_LIMITS }),
  }));
  const loaded = await client;
  return loaded.client.send(new loaded.module.BatchUpdateFindingsCommand(input));
}
