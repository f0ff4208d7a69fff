// User-supplied identifiers (inventory schema, table and view names) are checked twice before any
// SQL uses them: against a strict pattern, then against the catalog. Only then are they quoted
// through postgres.js `sql(name)`.
import { AppError } from '../errors.js'
import { IDENTIFIER_PATTERN } from '../models.js'
import type { Sql } from './connect.js'

export const INVENTORY_SCHEMA = 'stackql_inventory'
const IDENTIFIER = new RegExp(IDENTIFIER_PATTERN)
const VIEW_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/
const RESERVED = new Set(['stackql_app', 'pg_catalog', 'information_schema', 'public', 'pg_toast'])

/** Pattern check only: lower-case letters, digits, underscore, at most 60 characters. */
export function assertIdentifierShape(name: unknown, what: string, pattern = IDENTIFIER): string {
  if (typeof name !== 'string' || !pattern.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : String(typeof name)
    throw new AppError(
      'IDENTIFIER_INVALID',
      `Invalid ${what} name ${shown}: use 1-60 lower-case letters, digits and underscores, starting with a letter or underscore.`,
    )
  }
  return name
}

/** A schema inventory tables may be written to: the pattern, and not one of the app's own or system schemas. */
export function assertTargetSchema(name: unknown): string {
  const schema = assertIdentifierShape(name, 'schema')
  if (RESERVED.has(schema) || schema.startsWith('pg_')) {
    throw new AppError(
      'IDENTIFIER_INVALID',
      `Schema "${schema}" is reserved: inventory tables go to ${INVENTORY_SCHEMA} or a schema of your own.`,
    )
  }
  return schema
}

type RelKind = 'table' | 'matview'

/**
 * Pattern check, then catalog check: the relation must exist in `schema` with the given kind.
 * Throws NOT_FOUND (nothing is touched) otherwise.
 */
export async function assertExistingRelation(
  sql: Sql,
  schema: string,
  name: unknown,
  kind: RelKind,
): Promise<string> {
  // `<table>_mv` of a 60-character table name needs PostgreSQL's full 63 characters.
  const rel =
    kind === 'table'
      ? assertIdentifierShape(name, 'table')
      : assertIdentifierShape(name, 'materialised view', VIEW_IDENTIFIER)
  const relkind = kind === 'table' ? 'r' : 'm'
  const [found] = await sql<{ relname: string }[]>`
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${rel} and c.relkind = ${relkind}`
  if (!found) {
    throw new AppError(
      'NOT_FOUND',
      `${kind === 'table' ? 'Table' : 'Materialised view'} ${schema}.${rel} does not exist.`,
    )
  }
  return rel
}
