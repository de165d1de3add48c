import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

/*
 * `npm run build` (also run by `npm ci` through `prepare`): the consumer package, consumer/package.json
 * (`@n3-callback/consumer`), as plain JavaScript with type declarations, so an MIS service installs it
 * (`npm run pack:consumer` makes the tarball) and needs no TypeScript tooling. What it takes from contract/
 * is bundled into consumer/dist/index.js, and its declarations sit beside the consumer's in dist/types:
 * nothing in the package reaches back into this repository. Other packages stay external, and each must be
 * one of the package's dependencies: the build refuses an import the package does not declare.
 * `--pack` (`npm run pack:consumer`) then packs it: dist/n3-callback-consumer-<version>.tgz, what `npm install` takes.
 */
const OUT = 'consumer/dist';
rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: ['consumer/index.ts'],
  outfile: `${OUT}/index.js`,
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});

const declared = Object.keys((JSON.parse(readFileSync('consumer/package.json', 'utf8')) as { dependencies: object }).dependencies);
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const builtin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);
const imported = new Set(
  Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external && !builtin(i.path)).map((i) => packageOf(i.path)),
  ),
);
const undeclared = [...imported].filter((name) => !declared.includes(name));
if (undeclared.length) {
  console.error(`build-consumer: consumer/package.json does not declare ${undeclared.join(', ')}: add it to its dependencies`);
  process.exit(1);
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.consumer.json'], { stdio: 'inherit' });
// Our sources import `./fields`; a project resolving as Node does (moduleResolution node16/nodenext) needs `./fields.js`.
for (const file of readdirSync(`${OUT}/types`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'))) {
  const path = `${OUT}/types/${file}`;
  writeFileSync(path, readFileSync(path, 'utf8').replace(/(from '|import\(')(\.\.?\/[^']+?)(?<!\.js)'/g, "$1$2.js'"));
}
console.log(`built ${OUT}: index.js and types/ (imports ${[...imported].sort().join(', ')})`);
if (process.argv.includes('--pack')) {
  mkdirSync('dist', { recursive: true });
  const tarball = execFileSync('npm', ['pack', './consumer', '--pack-destination', 'dist', '--silent'], { encoding: 'utf8' }).trim();
  console.log(`packed dist/${tarball}: npm install <this checkout>/dist/${tarball}`);
}
