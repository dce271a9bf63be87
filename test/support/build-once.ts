import { buildFunctions } from '../../infra/build/bundles.js';

/** The bundles are built once, before any test reads dist/ (packaging, the local stack). */
export default async function setup(): Promise<void> {
  await buildFunctions();
}
