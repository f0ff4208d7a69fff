// A whole-database picture for "nothing changed" assertions: every stackql_app table (row count and
// all rows, in id order) and every relation in stackql_inventory (kind, row count, all rows).
// Two snapshots taken around a refused request must be deeply equal. The audit log is left out: it
// records refused attempts too (test/access-*.test.ts check its rows).
import postgres from 'postgres'

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TableDump {
  count: number
  /** Rows as JSON text (dates and bigints compare by value), ordered by the first column. */
  rows: string[]
}

export interface DbSnapshot {
  /** stackql_app.<table> -> its rows. */
  app: Record<string, TableDump>
  /** stackql_inventory.<relation> -> kind ('r' table, 'v' view, 'm' materialised view) and rows. */
  inventory: Record<string, TableDump & { kind: string }>
  /** Schemas in the database (a dropped or created schema shows up here). */
  schemas: string[]
}

export interface Snapshotter {
  snapshot(): Promise<DbSnapshot>
  /** The rows of one stackql_app table, parsed (for targeted checks). */
  rows<T = Record<string, unknown>>(table: string): Promise<T[]>
  close(): Promise<void>
}

/** One connection to `url` for snapshots; closed at teardown. */
export function openSnapshotter(t: Teardown, url: string): Snapshotter {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 1 }))

  async function dumpRelation(schema: string, name: string): Promise<TableDump> {
    // Names come from pg_class, quoted by postgres.js: no user input reaches this SQL.
    const rows = await sql`select to_jsonb(x)::text as j from ${sql(schema)}.${sql(name)} x order by 1`
    return { count: rows.length, rows: rows.map((r) => r.j as string).sort() }
  }

  return {
    async snapshot() {
      const rels = await sql<{ schema: string; name: string; kind: string }[]>`
        select n.nspname as schema, c.relname as name, c.relkind as kind
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname in ('stackql_app', 'stackql_inventory') and c.relkind in ('r', 'v', 'm')
        order by 1, 2`
      const snap: DbSnapshot = { app: {}, inventory: {}, schemas: [] }
      for (const r of rels) {
        // The audit log records every attempt, refused ones included (by design): not app data.
        if (r.schema === 'stackql_app' && r.name === 'audit') continue
        const dump = await dumpRelation(r.schema, r.name)
        if (r.schema === 'stackql_app') snap.app[r.name] = dump
        else snap.inventory[r.name] = { ...dump, kind: r.kind }
      }
      snap.schemas = (
        await sql<{ nspname: string }[]>`
          select nspname from pg_namespace where nspname not like 'pg\\_%' order by 1`
      ).map((r) => r.nspname)
      return snap
    },
    async rows<T>(table: string) {
      return [...(await sql`select * from stackql_app.${sql(table)} order by id`)] as T[]
    },
    close: () => sql.end({ timeout: 1 }),
  }
}
