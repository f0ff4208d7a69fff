// The stand-in's JOIN of several resources (possibly of different providers), as the real engine
// runs it: each resource is listed with ITS required parameters (from ON or WHERE conditions on its
// alias) and its provider's credentials checked, then rows are joined on column equality.
// Output columns are named by the column (or its AS alias), as StackQL does.

const plain = (v) => (v && typeof v === 'object' && 'Valid' in v ? (v.Valid ? Object.values(v)[0] : null) : v)

export async function joinSelect(stmt, { resource, QueryError, env, ctx }) {
  const sources = [{ path: stmt.path, alias: stmt.alias, on: [] }, ...stmt.joins]
  const conds = [...sources.flatMap((s) => s.on), ...stmt.where]
  const byAlias = new Map(sources.map((s) => [s.alias ?? s.path[2], s]))
  const sourceOf = (qualifier) => {
    const s = qualifier === undefined && sources.length === 1 ? sources[0] : byAlias.get(qualifier)
    if (!s) throw new QueryError(`error: unknown table alias '${qualifier ?? ''}'`)
    return s
  }
  const lists = []
  for (const s of sources) {
    const r = resource(s.path)
    const mine = conds.filter((c) => c.values && sourceOf(c.qualifier) === s)
    const params = Object.fromEntries(mine.map((c) => [c.column, c.values]))
    if (r.required.some((name) => !params[name])) {
      throw new QueryError(
        `cannot find matching operation, possible causes include missing required parameters or an unsupported method for the resource, to find required parameters for supported methods run SHOW METHODS IN ${s.path.join('.')}: cannot resolve Method`,
      )
    }
    const authError = r.auth?.(env)
    if (authError) throw new QueryError(authError)
    let rows = await r.rows(params, env, ctx)
    for (const c of mine)
      rows = rows.filter((row) => !(c.column in row) || c.values.includes(String(plain(row[c.column]))))
    lists.push({ s, rows })
  }
  let joined = [{}]
  for (const { s, rows } of lists) {
    const key = s.alias ?? s.path[2]
    joined = joined.flatMap((acc) => rows.map((row) => ({ ...acc, [key]: row })))
    joined = joined.filter((acc) =>
      conds
        .filter((c) => c.equals)
        .every((c) => {
          const a = acc[sourceOf(c.qualifier).alias ?? sourceOf(c.qualifier).path[2]]
          const b = acc[sourceOf(c.equals.qualifier).alias ?? sourceOf(c.equals.qualifier).path[2]]
          return (
            a === undefined ||
            b === undefined ||
            String(plain(a[c.column])) === String(plain(b[c.equals.column]))
          )
        }),
    )
  }
  let out = joined.map((acc) => {
    const o = {}
    for (const item of stmt.items) {
      if (!item.column) throw new QueryError('error: the stand-in joins named columns only')
      const row = acc[sourceOf(item.qualifier).alias ?? sourceOf(item.qualifier).path[2]]
      o[item.as] = row[item.column] ?? null
    }
    return o
  })
  if (stmt.limit !== undefined) out = out.slice(0, stmt.limit)
  return out.length ? JSON.stringify(out) : '[]'
}
