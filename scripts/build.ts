import { buildFunctions } from '../infra/build/bundles.js';

/** npm run build: bundles every function and prints what a cold start loads. */
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

for (const bundle of await buildFunctions()) {
  const onDemand = bundle.onDemandBytes > 0 ? `  (+${kb(bundle.onDemandBytes)} loaded on demand)` : '';
  console.log(
    `${bundle.name.padEnd(8)} dist/${bundle.name}/index.mjs  ${kb(bundle.bytes).padStart(10)}  gzip ${kb(bundle.gzipBytes).padStart(9)}${onDemand}`,
  );
}
