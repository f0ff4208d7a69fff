// Splitting and classifying statements on StackQL's own token rules, and the resources a query
// names. Issue 12, finding 4: "The read-only check can be talked past".
import t from 'tap'
import { AppError } from '../src/errors.js'
import { namedProvider, referencedProviders, resourceReferences } from '../src/stackql/references.js'
import {
  assertReadOnlyQuery,
  isReadOnlyKind,
  needsCredentials,
  type StatementKind,
  singleStatement,
  splitStatements,
  statementKind,
} from '../src/stackql/statements.js'

function codeOf(f: () => unknown): string {
  try {
    f()
    return 'accepted'
  } catch (err) {
    return err instanceof AppError ? err.code : `not an AppError: ${String(err)}`
  }
}

t.test('finding 4: the two exploits of the review are refused', async (t) => {
  // StackQL reads "//" as a line comment: the quote after it does not open a string, so the ";"
  // on the next line ends the SELECT and a DELETE follows.
  const slashes =
    "SELECT name FROM github.repos.repos WHERE org = 'z' // '\n; DELETE FROM github.repos.repos WHERE org = 'z'"
  t.same(splitStatements(slashes), [
    "SELECT name FROM github.repos.repos WHERE org = 'z' // '",
    "DELETE FROM github.repos.repos WHERE org = 'z'",
  ])
  t.equal(
    codeOf(() => assertReadOnlyQuery(slashes)),
    'STACKQL_MULTI_STATEMENT',
  )
  t.equal(
    codeOf(() => singleStatement(slashes)),
    'STACKQL_MULTI_STATEMENT',
  )
  // StackQL runs the inside of /*! ... */ as SQL.
  const bang = "/*!INSERT INTO github.repos.repos (org, name) SELECT 'a', 'b' */ SELECT 1"
  t.equal(
    codeOf(() => assertReadOnlyQuery(bang)),
    'VALIDATION',
  )
  t.equal(
    codeOf(() => singleStatement(bang)),
    'VALIDATION',
  )
  t.equal(
    codeOf(() => statementKind(bang)),
    'VALIDATION',
  )
  t.throws(() => assertReadOnlyQuery(bang), /\/\*! \.\.\. \*\/ comment at line 1, column 1/)
})

t.test(
  'finding 4: a backslash does not escape a double quote, so "a\\"; DELETE ..." is two statements',
  async (t) => {
    const text = 'SELECT "a\\"; DELETE FROM github.repos.repos; SELECT "x"'
    t.equal(splitStatements(text).length, 3)
    t.equal(
      codeOf(() => assertReadOnlyQuery(text)),
      'STACKQL_MULTI_STATEMENT',
    )
  },
)

t.test('finding 4: a table of tricky inputs, split and classified', async (t) => {
  const table: [string, string[], StatementKind][] = [
    ['SELECT 1 # x; DELETE FROM t', ['SELECT 1 # x; DELETE FROM t'], 'SELECT'],
    ['SELECT 1 -- x; DELETE FROM t', ['SELECT 1 -- x; DELETE FROM t'], 'SELECT'],
    ['SELECT 1 --x; DELETE FROM t', ['SELECT 1 --x; DELETE FROM t'], 'SELECT'],
    ['SELECT 1 // x; DELETE FROM t', ['SELECT 1 // x; DELETE FROM t'], 'SELECT'],
    ['SELECT 1 # x\n; DELETE FROM t', ['SELECT 1 # x', 'DELETE FROM t'], 'SELECT'],
    ["SELECT 'a;b -- c /* d' AS x", ["SELECT 'a;b -- c /* d' AS x"], 'SELECT'],
    ["SELECT 'it''s; fine'; SELECT 'x\\';y'", ["SELECT 'it''s; fine'", "SELECT 'x\\';y'"], 'SELECT'],
    ['SELECT "a;""b" FROM t', ['SELECT "a;""b" FROM t'], 'SELECT'],
    ['SELECT \'ünï;☃🙂\' AS "名前"', ['SELECT \'ünï;☃🙂\' AS "名前"'], 'SELECT'],
    ['sElEcT 1', ['sElEcT 1'], 'SELECT'],
    ['  dEsC aws.ec2.instances', ['dEsC aws.ec2.instances'], 'DESCRIBE'],
    ['((SELECT 1));', ['((SELECT 1))'], 'SELECT'],
    ['SELECT 1;;  ;\n-- end', ['SELECT 1'], 'SELECT'],
    [
      'WITH x AS (SELECT 1), y (a) AS (SELECT 2) SELECT * FROM x, y',
      ['WITH x AS (SELECT 1), y (a) AS (SELECT 2) SELECT * FROM x, y'],
      'SELECT',
    ],
    [
      'WITH RECURSIVE x AS (SELECT 1) (SELECT * FROM x)',
      ['WITH RECURSIVE x AS (SELECT 1) (SELECT * FROM x)'],
      'SELECT',
    ],
    ['WITH x AS (SELECT 1) DELETE FROM t', ['WITH x AS (SELECT 1) DELETE FROM t'], 'DELETE'],
    [
      'WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x',
      ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x'],
      'INSERT',
    ],
    ['WITH x AS (SELECT 1)', ['WITH x AS (SELECT 1)'], 'OTHER'],
    ['REPLACE INTO t VALUES (1)', ['REPLACE INTO t VALUES (1)'], 'REPLACE'],
    [
      "EXEC aws.ec2.instances.start @region = 'us-east-1'",
      ["EXEC aws.ec2.instances.start @region = 'us-east-1'"],
      'EXEC',
    ],
    ['SHOW PROVIDERS; REGISTRY LIST', ['SHOW PROVIDERS', 'REGISTRY LIST'], 'SHOW'],
    [
      '/* a */ # b\n -- c\n // d\n update t set a = 1',
      ['/* a */ # b\n -- c\n // d\n update t set a = 1'],
      'UPDATE',
    ],
    ['DROP TABLE t', ['DROP TABLE t'], 'OTHER'],
  ]
  for (const [text, statements, kind] of table) {
    t.same(splitStatements(text), statements, `split ${JSON.stringify(text)}`)
    t.equal(statementKind(statements[0]!), kind, `kind of ${JSON.stringify(statements[0])}`)
  }
})

t.test('finding 4: refused input is refused by every entry point, never guessed', async (t) => {
  for (const text of [
    "SELECT 'open",
    'SELECT "open',
    'SELECT 1 /* open',
    '/*! SELECT 1 */',
    'SELECT 1 /*!99999 ; DELETE FROM t */',
    "SELECT 'a\u0000'",
    'SELECT `a` FROM t',
    'SELECT ünï FROM t',
  ]) {
    t.equal(
      codeOf(() => splitStatements(text)),
      'VALIDATION',
      `split ${JSON.stringify(text)}`,
    )
    t.equal(
      codeOf(() => singleStatement(text)),
      'VALIDATION',
      `single ${JSON.stringify(text)}`,
    )
    t.equal(
      codeOf(() => assertReadOnlyQuery(text)),
      'VALIDATION',
      `read-only ${JSON.stringify(text)}`,
    )
    t.equal(
      codeOf(() => resourceReferences(text)),
      'VALIDATION',
      `references ${JSON.stringify(text)}`,
    )
  }
})

t.test('finding 4: only a plain SELECT (or WITH ... SELECT) passes the read-only check', async (t) => {
  for (const ok of [
    'SELECT 1',
    'sElEcT name FROM github.repos.repos',
    '((SELECT 1))',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'SELECT "delete", "into" FROM t',
    "SELECT 1 FROM t WHERE a = 'DELETE FROM t; INSERT INTO t'",
    'SELECT 1 -- DELETE FROM t',
  ]) {
    t.equal(
      codeOf(() => assertReadOnlyQuery(ok)),
      'accepted',
      ok,
    )
  }
  for (const bad of [
    'WITH x AS (SELECT 1) DELETE FROM t',
    'WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x',
    '(DELETE FROM t)',
    'REPLACE INTO t VALUES (1)',
    'SELECT * INTO t FROM u',
    'SELECT 1 FROM t FOR UPDATE',
    'DESCRIBE aws.ec2.instances',
    'EXEC aws.ec2.instances.start',
  ]) {
    t.equal(
      codeOf(() => assertReadOnlyQuery(bad)),
      'VALIDATION',
      bad,
    )
  }
  t.throws(
    () => assertReadOnlyQuery('WITH x AS (SELECT 1) DELETE FROM t'),
    /starts with "WITH" and its main statement is DELETE/,
  )
  t.throws(() => assertReadOnlyQuery('SELECT * INTO t FROM u'), /contains "INTO".*double quotes/)
})

t.test('finding 4: isReadOnlyKind is conservative: only SELECT, SHOW, DESCRIBE and REGISTRY', async (t) => {
  const all: StatementKind[] = [
    'SELECT',
    'SHOW',
    'DESCRIBE',
    'REGISTRY',
    'INSERT',
    'REPLACE',
    'UPDATE',
    'DELETE',
    'EXEC',
    'OTHER',
  ]
  t.same(all.filter(isReadOnlyKind), ['SELECT', 'SHOW', 'DESCRIBE', 'REGISTRY'])
  t.same(
    all.filter((k) => !needsCredentials(k)),
    ['SHOW', 'DESCRIBE', 'REGISTRY'],
  )
})

t.test(
  'resourceReferences: joins of github and aws, sub-queries and FROM lists, with exact offsets',
  async (t) => {
    const text = [
      'SELECT r.name, i.instance_id, a.b.c',
      'FROM github.repos.repos r',
      'JOIN aws.ec2.instances AS i ON r.id = i.tag, google.compute.instances g',
      "WHERE r.org IN (SELECT login FROM github.orgs.orgs WHERE x = 'aws.s3.buckets')",
      '-- FROM azure.compute.vms',
      '/* JOIN azure.network.vnets */ AND "q" = 1',
    ].join('\n')
    const refs = resourceReferences(text)
    t.same(
      refs.map((r) => [r.provider, r.service, r.resource, text.slice(r.start, r.end)]),
      [
        ['github', 'repos', 'repos', 'github.repos.repos'],
        ['aws', 'ec2', 'instances', 'aws.ec2.instances'],
        ['google', 'compute', 'instances', 'google.compute.instances'],
        ['github', 'orgs', 'orgs', 'github.orgs.orgs'],
      ],
      'a.b.c in the SELECT list, r.name aliases, strings and comments are not resources',
    )
    t.equal(refs[0]!.start, text.indexOf('github.repos.repos'))
    t.equal(refs[0]!.end, text.indexOf('github.repos.repos') + 'github.repos.repos'.length)
    t.same(referencedProviders(text), ['aws', 'github', 'google'])
  },
)

t.test('resourceReferences: INSERT INTO, UPDATE, DELETE FROM, DESCRIBE, SHOW METHODS IN, EXEC', async (t) => {
  const cases: [string, string[]][] = [
    [
      "INSERT INTO github.repos.repos (org) SELECT 'a' FROM aws.sts.caller_identity",
      ['github.repos.repos', 'aws.sts.caller_identity'],
    ],
    ['UPDATE aws.s3.buckets SET x = 1', ['aws.s3.buckets']],
    ['DELETE FROM aws.s3.buckets WHERE a.b.c = 1', ['aws.s3.buckets']],
    ['DESCRIBE EXTENDED aws.ec2.instances', ['aws.ec2.instances']],
    ['desc aws.ec2.instances', ['aws.ec2.instances']],
    ['SHOW METHODS IN aws.ec2.instances', ['aws.ec2.instances']],
    ['SHOW RESOURCES IN aws.ec2', []],
    ["EXEC /*+ AWAIT */ google.compute.instances.start @project = 'p'", ['google.compute.instances.start']],
    ['SELECT * FROM "my-provider"."a.b".c', ['"my-provider"."a.b".c']],
    ["SELECT TRIM(BOTH ' ' FROM t.a.b) FROM aws.x.y", ['aws.x.y']],
    ['SELECT * FROM (SELECT * FROM aws.a.b) s, github.c.d', ['aws.a.b', 'github.c.d']],
    ['SELECT * FROM aws.a.b WHERE x = 1, github.c.d', ['aws.a.b']],
  ]
  for (const [text, names] of cases) {
    t.same(
      resourceReferences(text).map((r) => text.slice(r.start, r.end)),
      names,
      text,
    )
  }
  const exec = resourceReferences('EXEC google.compute.instances.start')[0]!
  t.same(
    [exec.provider, exec.service, exec.resource],
    ['google', 'compute', 'instances'],
    'EXEC: the resource is the first three parts',
  )
  const quoted = resourceReferences('SELECT * FROM "my-provider"."a.b".c')[0]!
  t.same([quoted.provider, quoted.service, quoted.resource], ['my-provider', 'a.b', 'c'])
})

t.test(
  'referencedProviders counts API calls only; namedProvider names the provider of metadata statements',
  async (t) => {
    t.same(referencedProviders('SELECT * FROM AWS.ec2.instances JOIN github.a.b JOIN aws.s3.buckets'), [
      'aws',
      'github',
    ])
    t.same(referencedProviders('DESCRIBE aws.ec2.instances'), [])
    t.same(referencedProviders('SHOW METHODS IN aws.ec2.instances'), [])
    t.same(referencedProviders('SHOW SERVICES IN aws'), [])
    t.same(referencedProviders('REGISTRY PULL aws'), [])
    t.same(referencedProviders('EXEC aws.ec2.instances.start'), ['aws'])
    t.equal(namedProvider('SHOW SERVICES IN aws'), 'aws')
    t.equal(namedProvider("show resources in Google.compute like '%x%'"), 'google')
    t.equal(namedProvider('REGISTRY PULL github v24.1.1'), 'github')
    t.equal(namedProvider('DESCRIBE EXTENDED aws.ec2.instances'), 'aws')
    t.equal(namedProvider('SHOW PROVIDERS'), null)
    t.equal(namedProvider('SELECT * FROM aws.ec2.instances'), null)
  },
)
