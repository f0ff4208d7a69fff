// Key column suggestions (issue 14 item 1): from the SELECT list's output names (aliases count),
// for SELECT * from the resource's columns, by the rule id, arn, *_id, self_link, resource_id, name
// (+ _profile when the schedule fans out over profiles).
import t from 'tap'
import { keySuggestions, selectOutputColumns } from '../src/changes/key-suggestions.js'

t.test(
  'the output names of a SELECT list: plain and qualified columns, aliases with and without AS',
  async (t) => {
    const { names, star } = selectOutputColumns(
      `SELECT i.instance_id, instance_type AS type, json_extract_string(tags, '$.Name') name_tag,
       "Quoted Col", COUNT(*) AS n, a + b, CASE WHEN x THEN 1 END, 'lit' AS "self_link"
     FROM aws.ec2.instances i WHERE region = 'us-east-1'`,
    )
    t.same(names, ['instance_id', 'type', 'name_tag', 'Quoted Col', 'n', 'self_link'])
    t.equal(star, null, 'no * in the list')
  },
)

t.test('strings and comments never count as columns; DISTINCT is skipped', async (t) => {
  const { names } = selectOutputColumns(
    "SELECT DISTINCT /* arn, */ id, 'x, resource_id' AS label -- , self_link\n FROM github.repos.repos WHERE org = 'stackql'",
  )
  t.same(names, ['id', 'label'])
})

t.test('SELECT * and alias.* name the resource whose columns they stand for', async (t) => {
  const plain = selectOutputColumns("SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'")
  t.same(plain.names, [])
  t.match(plain.star, { provider: 'aws', service: 'ec2', resource: 'instances' })
  const qualified = selectOutputColumns(
    'SELECT r.*, v.name AS vpc FROM aws.ec2.vpcs v JOIN aws.ec2.route_tables r ON r.vpc_id = v.vpc_id',
  )
  t.match(qualified.star, { resource: 'route_tables' }, 'the alias decides, not the first table')
  t.same(qualified.names, ['vpc'])
})

t.test('not a SELECT, or text the tokenizer refuses: no suggestions, no error', async (t) => {
  t.same(selectOutputColumns('SHOW PROVIDERS'), { names: [], star: null })
  t.same(selectOutputColumns("SELECT 'unterminated FROM x"), { names: [], star: null })
  t.same(keySuggestions({ text: 'DESCRIBE aws.ec2.instances', fansOut: false }), [])
})

t.test(
  'the rule: id, arn, self_link, resource_id first, then *_id, then name; others are not suggested',
  async (t) => {
    t.same(
      keySuggestions({
        text: 'SELECT name, vpc_id, instance_type, arn, state, id FROM aws.ec2.instances',
        fansOut: false,
      }),
      ['arn', 'id', 'vpc_id', 'name'],
    )
    t.same(keySuggestions({ text: 'SELECT instance_type, state FROM aws.ec2.instances', fansOut: false }), [])
    t.same(
      keySuggestions({
        text: 'SELECT selfLink AS self_link, zone FROM google.compute.instances',
        fansOut: false,
      }),
      ['self_link'],
      'an alias is the output name',
    )
  },
)

t.test('_profile is suggested last when the schedule fans out over profiles', async (t) => {
  const text = 'SELECT instance_id, instance_type FROM aws.ec2.instances'
  t.same(keySuggestions({ text, fansOut: true }), ['instance_id', '_profile'])
  t.same(keySuggestions({ text, fansOut: false }), ['instance_id'])
})

t.test(
  'SELECT * suggests from the resource columns the metadata knows, and nothing when unknown',
  async (t) => {
    const text = "SELECT * FROM aws.ec2.instances WHERE region = 'us-east-1'"
    t.same(
      keySuggestions({
        text,
        fansOut: false,
        starColumns: ['instance_type', 'instance_id', 'subnet_id', 'region'],
      }),
      ['instance_id', 'subnet_id'],
    )
    t.same(keySuggestions({ text, fansOut: false }), [])
    t.same(
      keySuggestions({
        text: 'SELECT *, arn AS resource_arn FROM x.y.z',
        fansOut: false,
        starColumns: ['id'],
      }),
      ['id'],
      'names of the list and of the resource combine',
    )
  },
)
