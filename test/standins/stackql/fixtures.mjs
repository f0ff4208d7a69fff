// The stand-in's provider catalog: services, resources, columns, methods, required parameters,
// credential checks and rows. Shapes follow reference/stackql.md; the data is made up.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadRegistry, mergeRegistry } from './registry.mjs'

export const PROVIDER_VERSION = 'v24.04.00227'
// node:crypto and node:child_process are loaded when first used: most runs of the stand-in need
// neither, and loading them cost every stand-in process ~5-8 ms of start-up.
const sha256 = () => process.getBuiltinModule('node:crypto').createHash('sha256')

export const OLDER_VERSION = 'v24.03.00198'

/** Account derived from the access key so tests can tell which credentials a run saw, without echoing them. */
export function awsAccountFor(accessKeyId) {
  const hex = sha256().update(`standin:${accessKeyId}`).digest('hex')
  return String(BigInt(`0x${hex.slice(0, 15)}`) % 10n ** 12n).padStart(12, '0')
}

const awsAuth = (env) => {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
    return 'http response status code: 403, response body: <?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>5f1c2e2a-0000-4000-8000-000000000000</RequestID></Response>'
  }
  if (env.AWS_ACCESS_KEY_ID.startsWith('INVALID')) {
    // Like AWS, the error names the key id it rejected.
    return `http response status code: 401, response body: <?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid: ${env.AWS_ACCESS_KEY_ID}</Message></Error></Errors></Response>`
  }
  return null
}

const googleAuth = (env) => {
  if (!env.GOOGLE_CREDENTIALS) {
    return 'http response status code: 401, response body: {"error":{"code":401,"message":"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.","status":"UNAUTHENTICATED"}}'
  }
  try {
    JSON.parse(env.GOOGLE_CREDENTIALS)
  } catch {
    return 'error: google: could not parse the service account key in GOOGLE_CREDENTIALS: invalid character looking for beginning of value'
  }
  return null
}

const azureAuth = (env) =>
  env.AZURE_TENANT_ID && env.AZURE_CLIENT_ID && env.AZURE_CLIENT_SECRET
    ? null
    : 'http response status code: 401, response body: {"error":{"code":"AuthenticationFailed","message":"Authentication failed. The Authorization header is missing."}}'

const str = (s) => ({ String: s, Valid: true })
const nil = { Valid: false }

const ec2Instances = [
  ['i-0a1b2c3d4e5f60001', 't3.micro', '10.0.1.10', 'running', 'us-east-1'],
  ['i-0a1b2c3d4e5f60002', 'm5.large', '10.0.1.11', 'stopped', 'us-east-1'],
  ['i-0a1b2c3d4e5f60003', 't3.small', '10.0.2.20', 'running', 'us-east-1'],
  ['i-0a1b2c3d4e5f60004', 'c5.xlarge', '10.1.0.5', 'running', 'eu-west-1'],
].map(([id, type, ip, state, region], i) => ({
  instance_id: id,
  instance_type: type,
  private_ip_address: ip,
  state,
  launch_time: `2024-0${i + 1}-15T10:00:00.000Z`,
  region,
  cpu_count: String(2 ** (i + 1)),
  // The same values under the provider's real field names (registry/aws.json ec2.instances).
  InstanceId: id,
  InstanceType: type,
  PrivateIpAddress: ip,
  State: state,
  LaunchTime: `2024-0${i + 1}-15T10:00:00.000Z`,
}))

const repos = [
  { id: '443987542', name: 'stackql', description: str('Query cloud APIs with SQL'), language: str('Go') },
  {
    id: '455893712',
    name: 'pystackql',
    description: str('Python wrapper for StackQL'),
    language: str('Python'),
  },
  { id: '470228937', name: 'stackql-provider-registry', description: nil, language: nil },
].map((r) => ({ ...r, stargazers_count: String(r.name.length * 37), org: 'stackql' }))

/** Resources by provider.service.resource. rows(params, env, ctx) returns rows (or a promise); params: column -> values[]. */
export const catalog = {
  github: {
    title: 'GitHub',
    services: {
      repos: {
        title: 'GitHub Repos',
        resources: {
          repos: {
            required: ['org'],
            columns: [
              ['id', 'integer', 'Unique identifier of the repository'],
              ['name', 'string', 'The name of the repository'],
              ['description', 'string', 'The repository description'],
              ['language', 'string', 'Main language'],
              ['stargazers_count', 'integer', 'Stars'],
              ['org', 'string', 'Owning organisation (parameter)'],
            ],
            emptyOutput: 'null',
            rows: () => repos,
          },
        },
      },
    },
  },
  aws: {
    title: 'Amazon Web Services',
    services: {
      ec2: {
        title: 'Amazon EC2',
        resources: {
          instances: {
            required: ['region'],
            auth: awsAuth,
            columns: [
              ['instance_id', 'string', 'The ID of the instance'],
              ['instance_type', 'string', 'The instance type'],
              ['private_ip_address', 'string', 'Private IPv4 address'],
              ['state', 'string', 'Instance state'],
              ['launch_time', 'string', 'When the instance was launched'],
              ['region', 'string', 'AWS region (parameter)'],
              ['cpu_count', 'integer', 'Number of vCPUs'],
            ],
            emptyOutput: '[]',
            // The snake_case columns above are the reference's examples (stand-in extras); the
            // real describe_instances fields come from registry/aws.json and get generated values.
            fillRealColumns: true,
            rows: () => ec2Instances,
          },
        },
      },
      sts: {
        title: 'AWS STS',
        resources: {
          caller_identity: {
            required: [],
            auth: awsAuth,
            columns: [
              ['account', 'string', 'Account id'],
              ['arn', 'string', 'Caller ARN'],
              ['user_id', 'string', 'Caller user id'],
            ],
            rows: (_params, env) => {
              const account = awsAccountFor(env.AWS_ACCESS_KEY_ID)
              return [{ account, arn: `arn:aws:iam::${account}:user/standin`, user_id: `AIDA${account}` }]
            },
          },
        },
      },
    },
  },
  google: {
    title: 'Google Cloud Platform',
    services: {
      compute: {
        title: 'Compute Engine',
        resources: {
          instances: {
            required: ['project', 'zone'],
            auth: googleAuth,
            columns: [
              ['name', 'string', 'Instance name'],
              ['status', 'string', 'RUNNING, TERMINATED, ...'],
              ['machineType', 'string', 'Machine type URL'],
              ['project', 'string', 'Project (parameter)'],
              ['zone', 'string', 'Zone (parameter)'],
            ],
            emptyOutput: '',
            fillRealColumns: true,
            rows: (params) =>
              (params.project ?? []).flatMap((project) =>
                project === 'empty-project'
                  ? []
                  : ['web-1', 'web-2'].map((name, i) => ({
                      id: String(
                        BigInt(`0x${sha256().update(`${project}/${name}`).digest('hex').slice(0, 13)}`),
                      ),
                      name,
                      status: i === 0 ? 'RUNNING' : 'TERMINATED',
                      machineType: 'e2-medium',
                      project,
                      zone: params.zone?.[0],
                    })),
              ),
          },
        },
      },
    },
  },
  // azure comes from registry/azure.json (virtual_machines, storage_accounts, resource_groups).
  azure: { title: 'Microsoft Azure', services: {} },
  stackql_test: {
    title: 'Stand-in test fixtures',
    services: {
      util: {
        title: 'Test utilities',
        resources: {
          // int-types: raw JSON numbers beyond 2^53 (as Go's encoding/json prints int64/uint64 fields),
          // which JSON.stringify cannot write: the printed text is given as is.
          numbers: {
            required: [],
            columns: [
              ['id', 'integer', 'int64 beyond 2^53'],
              ['size', 'integer', 'uint64'],
              ['ratio', 'number', ''],
            ],
            rows: () => [],
            emptyOutput:
              '[{"id":9007199254740993,"size":18446744073709551615,"ratio":0.5},{"id":2,"size":1,"ratio":1e-7}]',
          },
          sleep: {
            required: ['seconds'],
            columns: [['slept', 'string', 'Seconds slept']],
            rows: (params, _env, ctx) => sleep(Number(params.seconds[0]), ctx),
          },
          rows: {
            required: ['count'],
            columns: [
              ['id', 'string', 'Row number (as a string, like many providers)'],
              ['name', 'string', ''],
              ['region', 'string', ''],
              ['active', 'boolean', ''],
              ['cpu', 'number', ''],
              ['owner', 'string', 'NULL-wrapped'],
              ['tags', 'object', 'Nested JSON'],
            ],
            rows: (params) => manyRows(Number(params.count[0])),
          },
          // history: a resource whose rows a test changes between runs (add, remove, modify).
          inventory: {
            required: [],
            columns: [
              ['instance_id', 'string', 'Stable id of the instance'],
              ['name', 'string', ''],
              ['instance_type', 'string', ''],
              ['public_ip', 'string', 'NULL-wrapped when the instance has none'],
            ],
            rows: (_params, _env, ctx) => inventoryRows(ctx.approot),
          },
          nulls: {
            required: [],
            columns: [
              ['name', 'string', ''],
              ['text', 'string', ''],
              ['n', 'integer', ''],
              ['f', 'number', ''],
              ['b', 'boolean', ''],
              ['missing', 'string', ''],
              ['later', 'string', 'only on the second row'],
            ],
            // Keys as the real one prints them: the first row lacks `later`.
            rawRows: true,
            rows: () => [
              {
                name: 'wrapped',
                text: str('x'),
                n: { Int64: 5, Valid: true },
                f: { Float64: 1.5, Valid: true },
                b: { Bool: true, Valid: true },
                missing: nil,
              },
              {
                name: 'plain',
                text: 'y',
                n: '42',
                f: '2.5',
                b: false,
                missing: nil,
                later: { String: 'z', Valid: true },
              },
            ],
          },
          env_names: {
            required: [],
            columns: [['name', 'string', 'Name (never the value) of a variable in the process environment']],
            rows: (_params, env) =>
              Object.keys(env)
                .sort()
                .map((name) => ({ name })),
          },
          crash: { required: [], columns: [['x', 'string', '']], crash: true, rows: () => [] },
          // int-snapshots: faults that must not become snapshots, and an echo for the redaction tests.
          partial: {
            required: ['count'],
            columns: [
              ['id', 'string', ''],
              ['name', 'string', ''],
              ['region', 'string', ''],
            ],
            rows: (params) =>
              manyRows(Number(params.count[0]))
                .filter((r) => r.region === 'us-east-1')
                .map(({ id, name, region }) => ({ id, name, region })),
            stderr: () =>
              'error: http response status code: 403, response body: <Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. (region eu-west-1)</Message></Error></Errors></Response>\n',
            exitCode: 1,
          },
          // A slice whose StackQL prints something that is not JSON on stdout (mode = 'text'), e.g.
          // a wrapper or an old binary ignoring --output json; otherwise one row {tag, mode}.
          garbled: {
            required: ['mode', 'tag'],
            columns: [
              ['tag', 'string', ''],
              ['mode', 'string', ''],
            ],
            rows: (params) => [{ tag: params.tag[0], mode: params.mode[0] }],
            output: (params) =>
              params.mode[0] === 'text'
                ? '|  tag  | mode |\n|-------|------|\n| x     | text |\n'
                : undefined,
          },
          noise: {
            required: [],
            columns: [['id', 'string', '']],
            rows: () => [],
            stderr: () => 'level=warn msg="provider page 2 of 5 skipped"\n',
          },
          echo: {
            required: ['name'],
            columns: [['x', 'string', '']],
            rows: () => [],
            // An error that echoes a credential, after `pad` characters of filler.
            stderr: (params, env) =>
              `error: ${'.'.repeat(Number(params.pad?.[0] ?? 0))}key=${env[params.name[0]] ?? ''} rejected\n`,
          },
        },
      },
    },
  },
}

const INVENTORY_ROWS = [
  { instance_id: 'i-0001', name: 'web-1', instance_type: 't3.small', public_ip: nil },
  { instance_id: 'i-0002', name: 'web-2', instance_type: 't3.small', public_ip: nil },
  { instance_id: 'i-0003', name: 'batch-1', instance_type: 'm5.large', public_ip: nil },
]

/** Test hook: `<approot>/standin-inventory.json` (an array of rows) replaces the default rows. */
function inventoryRows(approot) {
  const file = join(approot, 'standin-inventory.json')
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : INVENTORY_ROWS
}

function manyRows(count) {
  const regions = ['us-east-1', 'eu-west-1', 'ap-south-1']
  const rows = new Array(count)
  for (let i = 0; i < count; i++) {
    rows[i] = {
      id: String(i + 1),
      name: `resource-${i + 1}`,
      region: regions[i % 3],
      active: i % 2 === 0,
      cpu: (i % 16) + 0.5,
      owner: i % 5 === 0 ? nil : str(`team-${i % 7}`),
      tags: { env: i % 2 ? 'prod' : 'dev', cost_center: String(1000 + (i % 10)), labels: ['a', 'b'] },
    }
  }
  return rows
}

/**
 * Sleeps in a grandchild too, so a kill that misses the process group leaves something behind.
 * The grandchild does not hold stdout/stderr: the caller sees the close as soon as stackql dies.
 */
function sleep(seconds, ctx) {
  const { spawn } = process.getBuiltinModule('node:child_process')
  const grandchild = spawn(process.execPath, ['-e', `setTimeout(() => {}, ${seconds * 1000})`], {
    stdio: 'ignore',
  })
  ctx.log({ pid: process.pid, grandchildPid: grandchild.pid })
  return new Promise((resolve) => setTimeout(() => resolve([{ slept: String(seconds) }]), seconds * 1000))
}

// Resources read from the public provider registry (registry/*.json), with generated rows. The
// credential checks above apply to them per provider; databricks_* check no credentials here.
const authByProvider = { aws: awsAuth, awscc: awsAuth, google: googleAuth, azure: azureAuth }
mergeRegistry(
  catalog,
  loadRegistry((provider) => authByProvider[provider]),
)
