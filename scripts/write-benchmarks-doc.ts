import { writeBenchmarkDocs } from './benchmarks-doc';

// `npm run bench:doc`: regenerates docs/benchmarks.md and the README's performance and capacity sections from
// docs/benchmarks.json, without measuring (after editing scripts/benchmarks-doc.ts or the README around them).
console.log(`wrote ${writeBenchmarkDocs().join(', ')}`);
