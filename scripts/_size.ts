import { buildLambdaBundle } from '../lib/bundling';
const m = await buildLambdaBundle('/tmp/sz/index.mjs');
console.log(
  Object.entries(m.outputs)
    .filter(([k]) => k.endsWith('index.mjs'))
    .map(([k, v]) => `${k} ${v.bytes}`)
    .join('\n'),
);
