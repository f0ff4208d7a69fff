#!/usr/bin/env node
// Stand-in for the `stackql` CLI (reference/stackql.md): `--version` and `exec "<query>" --output json`
// over the fixture providers in fixtures.mjs. Pulled providers live under --approot. See README.md.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bulkProviders } from './bulk.mjs'
import { catalog as fixtureCatalog, OLDER_VERSION, PROVIDER_VERSION } from './fixtures.mjs'
import { joinSelect } from './join.mjs'
import { metadataRows } from './metadata.mjs'
import { likeMatcher, parse, SqlError } from './sql.mjs'

const catalog = { ...fixtureCatalog, ...bulkProviders }

// Flags taking a value (pystackql's defaults plus common global flags of the real CLI).
const VALUE_FLAGS = new Set([
  'output',
  'approot',
  'execution.concurrency.limit',
  'dataflow.dependency.max',
  'dataflow.components.max',
  'http.response.maxResults',
  'http.response.pageLimit',
  'indirect.depth.max',
  'apirequesttimeout',
  'auth',
  'registry',
  'loglevel',
  'dbfilepath',
  'infile',
  'iqldata',
  'var',
])
const BOOL_FLAGS = new Set(['hideheaders', 'tls.allowInsecure', 'help'])

const argv = process.argv.slice(2)
if (process.env.STACKQL_STANDIN_LOG) {
  appendFileSync(process.env.STACKQL_STANDIN_LOG, `${JSON.stringify({ pid: process.pid, argv })}\n`)
}
// Tests of credential isolation: every process's whole environment (names AND values), so a test
// can check each StackQL process saw only its own profile's credentials. Test-only, never set in use.
if (process.env.STACKQL_STANDIN_ENV_LOG) {
  appendFileSync(
    process.env.STACKQL_STANDIN_ENV_LOG,
    `${JSON.stringify({ pid: process.pid, argv, env: { ...process.env } })}\n`,
  )
}
process.stdout.on('error', () => process.exit(0))

function usageError(msg) {
  process.stderr.write(`Error: ${msg}\nRun 'stackql --help' for usage.\n`)
  process.exit(1)
}

const positional = []
const flags = {}
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  if (!a.startsWith('--') || a === '--') {
    positional.push(a)
    continue
  }
  const [name, inline] = a.slice(2).split(/=(.*)/s)
  if (name === 'version') flags.version = true
  else if (BOOL_FLAGS.has(name)) flags[name] = inline ?? true
  else if (VALUE_FLAGS.has(name)) {
    const v = inline ?? argv[++i]
    if (v === undefined) usageError(`flag needs an argument: --${name}`)
    flags[name] = v
  } else usageError(`unknown flag: --${name}`)
}

if (flags.version) {
  const platform = `${process.platform === 'win32' ? 'windows' : process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`
  process.stdout.write(
    `stackql v0.5.665 ${platform} (5e0b7a2)\nBuildDate: 2024-05-20T02:55:11Z\nhttps://stackql.io\n`,
  )
  process.exit(0)
}
const [command, query] = positional
if (command !== 'exec') {
  if (command === undefined) usageError('no command given (the stand-in knows: exec, --version)')
  usageError(`unknown command "${command}" for "stackql" (the stand-in knows: exec)`)
}
if (query === undefined || positional.length > 2) usageError('exec takes exactly one query argument')
if ((flags.output ?? 'json') !== 'json')
  usageError(`the stand-in prints --output json only, not ${flags.output}`)
for (const name of ['auth', 'registry']) {
  if (flags[name] === undefined) continue
  try {
    JSON.parse(flags[name])
  } catch {
    usageError(`--${name} is not valid JSON`)
  }
}
const approot = flags.approot ?? join(process.cwd(), '.stackql')
const env = process.env
const ctx = {
  approot,
  log: (obj) =>
    env.STACKQL_STANDIN_LOG && appendFileSync(env.STACKQL_STANDIN_LOG, `${JSON.stringify(obj)}\n`),
}

/** A query error: printed on stderr, nothing on stdout, exit code 0 (as the real CLI does). */
class QueryError extends Error {}

/**
 * Test hook: `<approot>/standin-faults.json` = { registry?: 'unreachable', hang?: [prefix], fail?: [prefix] }.
 * A statement starting with a `hang` prefix never answers (the caller's timeout must kill it); one
 * starting with a `fail` prefix prints an error. Prefixes compare case-insensitively.
 */
function faults() {
  const file = join(approot, 'standin-faults.json')
  if (!existsSync(file)) return {}
  return JSON.parse(readFileSync(file, 'utf8'))
}

async function injectedFault(text) {
  const f = faults()
  const norm = text.replace(/\s+/g, ' ').trim().toUpperCase()
  const hit = (list) => (list ?? []).some((prefix) => norm.startsWith(prefix.toUpperCase()))
  if (hit(f.hang)) await new Promise(() => setInterval(() => {}, 60_000))
  if (hit(f.fail)) throw new QueryError(`error: injected failure for: ${text}`)
}

/** What the real CLI prints when the provider registry's host cannot be resolved. */
function registryUnreachable(path) {
  return `Get "https://registry.invalid/providers/dist/${path}": dial tcp: lookup registry.invalid: no such host`
}

function installedProviders() {
  const dir = join(approot, 'src')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((p) => existsSync(join(dir, p, PROVIDER_VERSION, 'provider.json')))
    .sort()
}

function provider(name) {
  if (!installedProviders().includes(name)) {
    throw new QueryError(
      `error: provider '${name}' is not installed in ${approot}; run REGISTRY PULL ${name}`,
    )
  }
  return catalog[name]
}

function service(path) {
  const s = provider(path[0]).services[path[1]]
  if (!s) throw new QueryError(`error: could not locate service '${path[1]}' in provider '${path[0]}'`)
  return s
}

function resource(path) {
  if (path.length !== 3) throw new QueryError(`error: '${path.join('.')}' is not a provider.service.resource`)
  const r = service(path).resources[path[2]]
  if (!r) throw new QueryError(`error: could not locate resource '${path.join('.')}'`)
  return r
}

function panic() {
  process.stderr.write(
    'panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1a2b3c4]\n\ngoroutine 1 [running]:\ngithub.com/stackql/stackql/internal/stackql/driver.(*basicStackQLDriver).ProcessQuery(0x0, {0xc000124000, 0x2d})\n\t/home/runner/work/stackql/internal/stackql/driver/driver.go:123 +0x1d\nexit status 2\n',
  )
  process.exit(2)
}

const plain = (v) => (v && typeof v === 'object' && 'Valid' in v ? (v.Valid ? Object.values(v)[0] : null) : v)
const byValue = (a, b) =>
  Number.isFinite(+a) && Number.isFinite(+b) ? a - b : String(a).localeCompare(String(b))

async function select(stmt) {
  if (stmt.joins.length) return joinSelect(stmt, { resource, QueryError, env, ctx })
  const r = resource(stmt.path)
  const params = Object.fromEntries(stmt.where.map((w) => [w.column, w.values]))
  if (r.required.some((p) => !params[p])) {
    throw new QueryError(
      `cannot find matching operation, possible causes include missing required parameters or an unsupported method for the resource, to find required parameters for supported methods run SHOW METHODS IN ${stmt.path.join('.')}: cannot resolve Method`,
    )
  }
  const authError = r.auth?.(env)
  if (authError) throw new QueryError(authError)
  if (r.crash) panic()
  let rows = await r.rows(params, env, ctx)
  for (const w of stmt.where) {
    rows = rows.filter((row) => !(w.column in row) || w.values.includes(String(plain(row[w.column]))))
  }
  const names = r.columns.map((c) => c[0])
  for (const item of stmt.items) {
    if (item.column && !names.includes(item.column)) {
      throw new QueryError(`error: column '${item.column}' not found in ${stmt.path.join('.')}`)
    }
  }
  if (stmt.groupBy.length || stmt.items.some((i) => i.count)) {
    const groups = new Map()
    for (const row of rows) {
      const key = JSON.stringify(stmt.groupBy.map((c) => plain(row[c])))
      if (!groups.has(key)) groups.set(key, [])
      groups.get(key).push(row)
    }
    rows = [...groups.values()].map((g) => ({ ...g[0], '\0count': String(g.length) }))
  }
  if (stmt.orderBy) {
    const { column, desc } = stmt.orderBy
    rows = [...rows].sort((a, b) => byValue(plain(a[column]), plain(b[column])) * (desc ? -1 : 1))
  }
  if (stmt.limit !== undefined) rows = rows.slice(0, stmt.limit)
  // int-snapshots: a resource may also write to stderr and set the exit code (partial, noise, echo).
  if (r.stderr) process.stderr.write(r.stderr(params, env))
  if (r.exitCode) process.exitCode = r.exitCode
  const raw = r.output?.(params)
  if (raw !== undefined) return raw
  const star = stmt.items.length === 1 && stmt.items[0].star
  const out =
    star && r.rawRows
      ? rows
      : rows.map((row) => {
          const o = {}
          for (const item of stmt.items) {
            if (item.star) for (const n of names) o[n] = row[n] ?? null
            else if (item.count) o[item.as] = row['\0count']
            else o[item.as] = row[item.column] ?? null
          }
          return o
        })
  return out.length ? JSON.stringify(out) : (r.emptyOutput ?? '[]')
}

async function execute(stmt) {
  switch (stmt.kind) {
    case 'show_providers':
      return JSON.stringify(installedProviders().map((name) => ({ name, version: PROVIDER_VERSION })))
    case 'show_services':
    case 'show_resources':
    case 'show_methods':
    case 'describe': {
      const node =
        stmt.kind === 'show_services'
          ? provider(stmt.path[0])
          : stmt.kind === 'show_resources'
            ? service(stmt.path)
            : resource(stmt.path)
      let rows = metadataRows(stmt, node, PROVIDER_VERSION)
      if (stmt.like !== undefined) {
        const re = likeMatcher(stmt.like)
        rows = rows.filter((r) => re.test(String(r.name ?? r.MethodName)))
      }
      return JSON.stringify(rows)
    }
    case 'registry_list':
      if (faults().registry === 'unreachable') throw new QueryError(registryUnreachable('providers.yaml'))
      if (stmt.provider === undefined) {
        return JSON.stringify(
          Object.keys(catalog)
            .sort()
            .map((p) => ({ provider: p, version: PROVIDER_VERSION })),
        )
      }
      if (!catalog[stmt.provider]) return '[]'
      return JSON.stringify([{ provider: stmt.provider, versions: `${PROVIDER_VERSION}, ${OLDER_VERSION}` }])
    case 'registry_pull': {
      if (faults().registry === 'unreachable') {
        throw new QueryError(registryUnreachable(`${stmt.provider}/${PROVIDER_VERSION}.tgz`))
      }
      if (!catalog[stmt.provider]) {
        throw new QueryError(`error: could not find provider '${stmt.provider}' in the provider registry`)
      }
      const dir = join(approot, 'src', stmt.provider, PROVIDER_VERSION)
      mkdirSync(dir, { recursive: true })
      writeFileSync(
        join(dir, 'provider.json'),
        JSON.stringify({ name: stmt.provider, version: PROVIDER_VERSION }),
      )
      process.stderr.write(
        `${stmt.provider} provider, version '${PROVIDER_VERSION}' successfully installed\n`,
      )
      return ''
    }
    case 'select':
      return select(stmt)
    case 'mutation': {
      const path = stmt.verb === 'EXEC' ? stmt.path.slice(0, 3) : stmt.path
      const r = resource(path)
      const authError = r.auth?.(env)
      if (authError) throw new QueryError(authError)
      process.stderr.write('The operation was despatched successfully\n')
      return ''
    }
  }
}

// Like the real CLI, several statements print their results one after the other.
const statements = query
  .split(/;(?=(?:[^']*'[^']*')*[^']*$)/)
  .map((s) => s.trim())
  .filter(Boolean)
for (const text of statements) {
  try {
    await injectedFault(text)
    // Benchmarks: STACKQL_STANDIN_LATENCY_MS stands for a provider's API round trips.
    const latency = Number(process.env.STACKQL_STANDIN_LATENCY_MS ?? 0)
    if (latency > 0 && !/^\s*registry/i.test(text)) await new Promise((r) => setTimeout(r, latency))
    process.stdout.write(await execute(parse(text)))
  } catch (e) {
    if (!(e instanceof QueryError || e instanceof SqlError)) throw e
    process.stderr.write(`${e.message}\n`)
  }
}
