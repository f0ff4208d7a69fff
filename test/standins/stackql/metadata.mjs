// The metadata statements' rows, with the column sets and order of the real binary (README.md,
// "Metadata statements" cites the sources): SHOW SERVICES, SHOW RESOURCES, SHOW METHODS, DESCRIBE.

/** A resource's methods: the catalog's own, else one SELECT method (plus INSERT/DELETE) from `required`. */
export function methodsOf(name, r) {
  if (Array.isArray(r.methods)) {
    return r.methods.map((m) => ({
      MethodName: m.MethodName,
      RequiredParams: Array.isArray(m.RequiredParams)
        ? m.RequiredParams.join(', ')
        : (m.RequiredParams ?? ''),
      SQLVerb: String(m.SQLVerb ?? 'SELECT').toUpperCase(),
      description: m.description ?? '',
    }))
  }
  return [
    { MethodName: `list_${name}`, RequiredParams: r.required.join(', '), SQLVerb: 'SELECT', description: '' },
    {
      MethodName: `create_${name}`,
      RequiredParams: ['data__name', ...r.required].join(', '),
      SQLVerb: 'INSERT',
      description: '',
    },
    {
      MethodName: `delete_${name}`,
      RequiredParams: ['name', ...r.required].join(', '),
      SQLVerb: 'DELETE',
      description: '',
    },
  ]
}

const pick = (row, keys) => Object.fromEntries(keys.map((k) => [k, row[k] ?? '']))

/** Rows of one metadata statement over a catalog node (provider, service or resource). */
export function metadataRows(stmt, node, version) {
  const x = stmt.extended
  switch (stmt.kind) {
    case 'show_services':
      // any-sdk GetServicesHeader: id, name, title (+ description, version, preferred)
      return Object.entries(node.services).map(([name, s]) =>
        pick(
          {
            id: `${name}:${version}`,
            name,
            title: s.title,
            description: s.description ?? s.title,
            version,
            preferred: true,
          },
          x ? ['id', 'name', 'title', 'description', 'version', 'preferred'] : ['id', 'name', 'title'],
        ),
      )
    case 'show_resources':
      // any-sdk GetResourcesHeader: name, id (+ description)
      return Object.entries(node.resources).map(([name, r]) =>
        pick(
          { name, id: `${stmt.path.join('.')}.${name}`, description: r.description ?? r.title ?? '' },
          x ? ['name', 'id', 'description'] : ['name', 'id'],
        ),
      )
    case 'show_methods':
      // any-sdk GetColumnOrder: MethodName, RequiredParams, SQLVerb (+ description)
      return methodsOf(stmt.path[2], node).map((m) =>
        pick(
          m,
          x
            ? ['MethodName', 'RequiredParams', 'SQLVerb', 'description']
            : ['MethodName', 'RequiredParams', 'SQLVerb'],
        ),
      )
    case 'describe':
      // any-sdk GetDescribeHeader: name, type (+ description)
      return node.columns.map(([name, type, description]) =>
        x ? { name, type, description: description ?? '' } : { name, type },
      )
  }
  return []
}
