import { writeBenchmarkDocs } from './benchmarks-doc';

// `npm run bench:doc`: regenerates docs/benchmarks.md and docs/performance.md (performance and capacity) from
// docs/benchmarks.json, without measuring (after editing dev/bench/benchmarks-doc.ts or the page around them).
console.log(`wrote ${writeBenchmarkDocs().join(', ')}`);
