// Provider data read from the public stackql-provider-registry (registry/<provider>.json: resource
// names, columns, SELECT methods and their required parameters) and a generator of deterministic rows
// for them: a few rows per combination of parameter values, plausible values by column type, the
// same on every run. Merged into the catalog by fixtures.mjs.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REGISTRY_DIR = join(dirname(fileURLToPath(import.meta.url)), 'registry')
const ROWS_PER_COMBINATION = 2

/** A stable number in [0, 2^32) for a seed string. */
function hashOf(seed) {
  // node:crypto is loaded on first use (fixtures.mjs says why).
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(seed).digest().readUInt32BE(0)
}

const TIME_NAME = /(date|time|_at|modified|created|updated)$/i

/** A plausible value for a column of the given type; the same seed always gives the same value. */
export function valueFor(name, type, seed) {
  const h = hashOf(seed)
  if (type === 'boolean') return h % 2 === 0
  if (type === 'integer') {
    // Epoch milliseconds for *_time integers (Databricks), small counts otherwise.
    if (TIME_NAME.test(name)) return String(1_700_000_000_000 + (h % 30_000_000) * 1000)
    return String(h % 1000)
  }
  if (type === 'number') return String((h % 10_000) / 100)
  if (type === 'array')
    return name.toLowerCase().includes('tags') ? [{ Key: 'env', Value: h % 2 ? 'prod' : 'dev' }] : []
  if (type === 'object') return name.toLowerCase().includes('tags') ? { env: h % 2 ? 'prod' : 'dev' } : {}
  if (TIME_NAME.test(name)) {
    return new Date(Date.UTC(2024, h % 12, (h % 28) + 1, h % 24, h % 60)).toISOString()
  }
  return `${name.toLowerCase()}-${(h % 0xffffff).toString(16).padStart(6, '0')}`
}

/** Every combination of the required parameters' values ([{}] when there are none). */
function combinations(required, params) {
  let out = [{}]
  for (const p of required) {
    out = out.flatMap((c) => (params[p] ?? []).map((v) => ({ ...c, [p]: v })))
  }
  return out
}

/** Rows for a registry resource: parameter columns carry the parameter's value, so WHERE filters keep them. */
export function generateRows(path, resource, params, overrides = {}) {
  const rows = []
  for (const combo of combinations(resource.required, params)) {
    const key = JSON.stringify(combo)
    for (let i = 0; i < ROWS_PER_COMBINATION; i++) {
      const row = {}
      for (const [name, type] of resource.columns) {
        const seed = `${path}|${key}|${i}|${name}`
        row[name] = name in combo ? combo[name] : (overrides[name]?.(i, seed) ?? valueFor(name, type, seed))
      }
      rows.push(row)
    }
  }
  return rows
}

// Values the starter queries and the dashboard look at, where "by type" would be meaningless.
const OVERRIDES = {
  'awscc.ec2.security_groups': {
    security_group_ingress: (i) => [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: i === 0 ? '0.0.0.0/0' : '10.0.0.0/8' },
    ],
  },
  'aws.iam.access_keys': { Status: (i) => (i === 0 ? 'Active' : 'Inactive') },
}

/** The registry files as catalog providers: { [provider]: { title, version, services } }. */
export function loadRegistry(authFor) {
  const providers = {}
  for (const file of readdirSync(REGISTRY_DIR).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(join(REGISTRY_DIR, file), 'utf8'))
    const services = {}
    for (const [svcName, svc] of Object.entries(doc.services)) {
      const resources = {}
      for (const [resName, res] of Object.entries(svc.resources)) {
        const path = `${doc.provider}.${svcName}.${resName}`
        resources[resName] = {
          title: res.title,
          required: res.required,
          columns: res.columns,
          methods: res.methods,
          auth: authFor(doc.provider),
          emptyOutput: doc.provider === 'github' ? 'null' : doc.provider === 'google' ? '' : '[]',
          rows: (params) => generateRows(path, res, params, OVERRIDES[path]),
        }
      }
      services[svcName] = { title: svc.title, resources }
    }
    providers[doc.provider] = { title: doc.title, version: doc.version, source: doc.source, services }
  }
  return providers
}

/** Adds registry resources to the catalog; hand-made fixture resources keep their rows and get the real columns. */
export function mergeRegistry(catalog, registry) {
  for (const [name, provider] of Object.entries(registry)) {
    catalog[name] ??= { title: provider.title, services: {} }
    const target = catalog[name]
    target.registryVersion = provider.version
    for (const [svcName, svc] of Object.entries(provider.services)) {
      target.services[svcName] ??= { title: svc.title, resources: {} }
      const s = target.services[svcName]
      for (const [resName, res] of Object.entries(svc.resources)) {
        const handMade = s.resources[resName]
        if (!handMade) {
          s.resources[resName] = res
          continue
        }
        // A hand-made fixture keeps its rows (tests rely on them) but takes the real column list;
        // its columns the provider lacks stay as documented stand-in extras (e.g. github's `org`).
        const real = new Set(res.columns.map((c) => c[0]))
        handMade.extraColumns = handMade.columns.filter((c) => !real.has(c[0])).map((c) => c[0])
        handMade.columns = [...res.columns, ...handMade.columns.filter((c) => !real.has(c[0]))]
        handMade.methods = res.methods
        if (handMade.fillRealColumns) {
          // Its rows keep their values and get deterministic ones for the real columns they lack.
          const handRows = handMade.rows
          const path = `${name}.${svcName}.${resName}`
          handMade.rows = async (params, env, ctx) =>
            (await handRows(params, env, ctx)).map((row, i) => {
              const full = { ...row }
              for (const [col, type] of res.columns) {
                if (!(col in full))
                  full[col] = valueFor(col, type, `${path}|${JSON.stringify(row)}|${i}|${col}`)
              }
              return full
            })
        }
      }
    }
  }
  return catalog
}
