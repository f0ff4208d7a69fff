// The starter query library: one `.sql` file per query under starter/<provider>/, the statement
// preceded by a front matter block of `-- key: value` lines between `-- ---` markers.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { AppError } from '../errors.js'
import { projectRoot } from '../paths.js'
import { assertPlaceholdersInCode, findPlaceholders } from '../profiles/variables.js'

/** One curated query, as its file declares it. */
export interface StarterQuery {
  /** Stable id: the path under starter/ without `.sql`, e.g. `aws/s3_buckets`. */
  id: string
  /** The folder it sits in (the IDE groups by it): aws, google, azure, github, databricks. */
  group: string
  name: string
  description: string
  /** The StackQL provider the statement reads (what a saved query's provider is). */
  provider: string
  /** Which provider definition the columns were read from. */
  providerVersion: string
  /** provider.service.resource the statement selects from. */
  resource: string
  cron: string
  table: string
  keys: string[]
  /** `{{ name }}` placeholders the statement needs filled (profile variables). */
  variables: string[]
  statement: string
}

const REQUIRED = [
  'name',
  'description',
  'provider',
  'provider_version',
  'resource',
  'cron',
  'table',
  'keys',
] as const
const KNOWN = new Set<string>([...REQUIRED, 'variables'])
const TABLE = /^[a-z_][a-z0-9_]{0,59}$/
const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** Parses one starter file; throws an AppError naming the file and what is wrong. */
export function parseStarter(id: string, text: string): StarterQuery {
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  const fail = (msg: string): never => {
    throw new AppError('CONFIG_INVALID', `starter/${id}.sql: ${msg}`)
  }
  if (lines[0]?.trim() !== '-- ---') fail('must start with a front matter block (a `-- ---` line)')
  const end = lines.indexOf('-- ---', 1)
  if (end < 0) fail('the front matter block has no closing `-- ---` line')
  const meta: Record<string, string> = {}
  for (const line of lines.slice(1, end)) {
    const m = /^--\s*([a-z_]+):\s*(.*)$/.exec(line)
    if (!m) fail(`front matter line is not "-- key: value": ${line}`)
    const key = m?.[1] ?? ''
    if (!KNOWN.has(key)) fail(`unknown front matter key "${key}"`)
    meta[key] = (m?.[2] ?? '').trim()
  }
  const field = (key: (typeof REQUIRED)[number]): string => meta[key] || fail(`front matter lacks "${key}"`)
  const [name, description, provider, providerVersion, resource, cron, table, keys] = REQUIRED.map(
    field,
  ) as string[] as [string, string, string, string, string, string, string, string]
  const statement = lines
    .slice(end + 1)
    .join('\n')
    .trim()
  if (!/^select\b/i.test(statement)) fail('the statement must be a SELECT')
  if (!TABLE.test(table)) fail(`table "${table}" is not 1-60 lower-case letters, digits, underscores`)
  if (resource.split('.').length !== 3 || resource.split('.')[0] !== provider) {
    fail(`resource "${resource}" must be ${provider}.<service>.<resource>`)
  }
  const variables = list(meta.variables)
  const used = [...new Set([...statement.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))]
  const undeclared = used.filter((v) => !variables.includes(v))
  if (undeclared.length) fail(`placeholders not declared in "variables": ${undeclared.join(', ')}`)
  const unused = variables.filter((v) => !used.includes(v))
  if (unused.length) fail(`declared variables not used by the statement: ${unused.join(', ')}`)
  // Placeholders are filled the way every run fills them: quoted once by the substitution.
  try {
    assertPlaceholdersInCode(statement, findPlaceholders(statement))
  } catch (e) {
    fail((e as Error).message)
  }
  return {
    id,
    group: id.split('/')[0] ?? id,
    name,
    description,
    provider,
    providerVersion,
    resource,
    cron,
    table,
    keys: list(keys),
    variables,
    statement,
  }
}

export const STARTER_DIR = join(projectRoot, 'starter')

function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sqlFiles(join(dir, e.name)) : e.name.endsWith('.sql') ? [join(dir, e.name)] : [],
  )
}

/** Every starter query, sorted by group then name. Ids and target tables are unique across the library. */
export function loadStarterLibrary(dir = STARTER_DIR): StarterQuery[] {
  const out = sqlFiles(dir).map((file) =>
    parseStarter(
      relative(dir, file)
        .split(sep)
        .join('/')
        .replace(/\.sql$/, ''),
      readFileSync(file, 'utf8'),
    ),
  )
  for (const field of ['name', 'table'] as const) {
    const seen = new Set<string>()
    for (const q of out) {
      if (seen.has(q[field]))
        throw new AppError('CONFIG_INVALID', `starter/${q.id}.sql: duplicate ${field} "${q[field]}"`)
      seen.add(q[field])
    }
  }
  return out.sort((a, b) => a.group.localeCompare(b.group) || a.name.localeCompare(b.name))
}
