import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));

export type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: unknown };
export interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
  Outputs: Record<string, { Value: unknown; Description?: string }>;
}

/**
 * What `npx osls package` generates, offline and without AWS credentials: what would be deployed. `params` are
 * given as an operator would, `--param="name=value"` (lists comma-separated). With `edit`, serverless.yml is first
 * rewritten (in a copy of the service that links to this one's code).
 */
export async function packageTemplate(
  options: {
    packageDir?: string;
    stage?: string;
    region?: string;
    params?: Record<string, string>;
    edit?: (serverlessYml: string) => string;
  } = {},
): Promise<{ template: Template; packageDir: string; cleanup: () => void }> {
  let serviceDir = root;
  if (options.edit) {
    serviceDir = mkdtempSync(join(tmpdir(), 'pam-service-'));
    for (const entry of ['node_modules', 'dist', 'infra', 'package.json'])
      symlinkSync(join(root, entry), join(serviceDir, entry));
    writeFileSync(join(serviceDir, 'serverless.yml'), options.edit(readFileSync(join(root, 'serverless.yml'), 'utf8')));
  }
  const packageDir = options.packageDir ?? join(serviceDir, '.serverless-package');
  await promisify(execFile)(
    process.execPath,
    [
      join(root, 'node_modules/osls/bin/serverless.js'),
      'package',
      '--package',
      packageDir,
      ...(options.stage ? ['--stage', options.stage] : []),
      ...(options.region ? ['--region', options.region] : []),
      ...Object.entries(options.params ?? {}).map(([name, value]) => `--param=${name}=${value}`),
    ],
    {
      cwd: serviceDir,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_PROFILE: '',
        SLS_TELEMETRY_DISABLED: '1',
      },
    },
  );
  const template = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  const cleanup = () => {
    if (serviceDir !== root) rmSync(serviceDir, { recursive: true, force: true });
  };
  return { template, packageDir, cleanup };
}
