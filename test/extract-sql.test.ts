// extract_sql: the first fenced sql block of an assistant answer, for "Insert into editor".
import t from 'tap'
import { extractSql } from '../src/services/extract-sql.js'

t.test('returns the first sql block without its fences, trimmed', async (t) => {
  const answer = [
    'Here you go:',
    '',
    '```sql',
    '',
    "  SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'",
    '',
    '```',
    '',
    'And another:',
    '```sql',
    'SELECT 2',
    '```',
  ].join('\n')
  t.equal(extractSql(answer), "SELECT instance_id FROM aws.ec2.instances WHERE region = 'us-east-1'")
})

t.test('keeps multi-line SQL intact', async (t) => {
  const answer = "```sql\nSELECT a,\n       b\nFROM x.y.z\nWHERE region = 'r'\n```"
  t.equal(extractSql(answer), "SELECT a,\n       b\nFROM x.y.z\nWHERE region = 'r'")
})

t.test('returns null when there is no fenced block at all', async (t) => {
  t.equal(extractSql('Just prose, with `SELECT 1` inline code.'), null)
  t.equal(extractSql(''), null)
})

t.test('skips blocks in other languages and unlabelled blocks', async (t) => {
  const answer =
    '```python\nprint(1)\n```\n```\nSELECT 0\n```\n```sqlite\nSELECT 9\n```\n```sql\nSELECT 1\n```'
  t.equal(extractSql(answer), 'SELECT 1')
  t.equal(extractSql('```bash\nstackql exec "SELECT 1"\n```'), null)
})

t.test('a sql example nested inside another language block is not picked', async (t) => {
  const answer = '````markdown\n```sql\nSELECT nested\n```\n````\n\n```sql\nSELECT outer_one\n```'
  t.equal(extractSql(answer), 'SELECT outer_one')
})

t.test('an unclosed sql fence (a cut-off answer) gives null rather than half a query', async (t) => {
  t.equal(extractSql('Here:\n```sql\nSELECT instance_id FROM aws.ec2.'), null)
  t.equal(extractSql('```python\nno end'), null)
})

t.test('the info string is case-insensitive and may carry attributes', async (t) => {
  t.equal(extractSql('```SQL\nSELECT 1\n```'), 'SELECT 1')
  t.equal(extractSql('```Sql title="q.sql"\nSELECT 2\n```'), 'SELECT 2')
  t.equal(extractSql('```sql{.numberLines}\nSELECT 3\n```'), 'SELECT 3')
  t.equal(extractSql('``` sql\nSELECT 4\n```'), 'SELECT 4')
})

t.test('CRLF and CR line endings are handled and normalised to LF', async (t) => {
  t.equal(extractSql('Text\r\n```sql\r\nSELECT a,\r\n  b FROM t\r\n```\r\n'), 'SELECT a,\n  b FROM t')
  t.equal(extractSql('```sql\rSELECT 1\r```'), 'SELECT 1')
})

t.test('tilde fences work, and a fence closes only with its own character and length', async (t) => {
  t.equal(extractSql('~~~sql\nSELECT 1\n~~~'), 'SELECT 1')
  t.equal(extractSql('~~~sql\nSELECT 1\n```\nSELECT 2\n~~~'), 'SELECT 1\n```\nSELECT 2')
  t.equal(extractSql('````sql\nSELECT 1\n```\n````'), 'SELECT 1\n```')
})

t.test('an indented fence (inside a list item) is found and its indentation removed', async (t) => {
  const answer = '1. Run this:\n   ```sql\n   SELECT a\n     FROM b\n   ```\n2. Done.'
  t.equal(extractSql(answer), 'SELECT a\n  FROM b')
})

t.test('an empty sql block is skipped in favour of the next one', async (t) => {
  t.equal(extractSql('```sql\n\n```\n```sql\nSELECT 5\n```'), 'SELECT 5')
  t.equal(extractSql('```sql\n   \n```'), null)
})

t.test('inline triple backticks are not fences', async (t) => {
  t.equal(extractSql('```sql inline``` here\n```sql\nSELECT 6\n```'), 'SELECT 6')
})
