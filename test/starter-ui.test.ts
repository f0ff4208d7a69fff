// The IDE's "Starter queries": browse by provider, preview, add one or all to the saved library.
import t from 'tap'
import { loadStarterLibrary } from '../src/starter/library.js'
import { buildTestApp } from './helpers/app.js'
import { STANDIN } from './helpers/stackql.js'

const library = loadStarterLibrary()
const aws = library.filter((q) => q.group === 'aws')

t.test('the Starter queries page lists a provider with previews and is in the navigation', async (t) => {
  const { session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
  const page = await session.get('/starter?group=github')
  t.equal(page.statusCode, 200)
  t.match(page.body, /<a href="\/starter"[^>]*>Starter queries<\/a>/, 'navigation links the page')
  for (const q of library.filter((q) => q.group === 'github')) t.match(page.body, q.name)
  t.notMatch(page.body, aws[0]!.name, 'other providers are on their own tab')
  t.match(page.body, /Preview the statement/)
  t.match(page.body, /FROM github\.repos\.repos/)
  const bad = await session.get('/starter?group=nope')
  t.equal(bad.statusCode, 400)
  t.match(bad.body, /nope(&quot;|&#34;)? is not a starter provider/)
})

t.test('adding all of a provider twice saves each query once', async (t) => {
  const { app, session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
  const first = await session.htmx('POST', '/starter/add', { group: 'aws' })
  t.equal(first.statusCode, 200)
  t.match(first.body, `Added ${aws.length} queries to your library.`)
  const second = await session.htmx('POST', '/starter/add', { group: 'aws' })
  t.match(second.body, `${aws.length} already there, unchanged.`)
  t.notMatch(second.body, /Added \d/)
  const saved = await app.db.getQueries()
  t.equal(saved.length, aws.length)
  const buckets = saved.find((q) => q.name === 'AWS S3 buckets')
  t.equal(buckets?.provider, 'aws')
  t.match(buckets?.query_text, /FROM aws\.s3\.buckets/)
})

t.test('adding never overwrites a query the user changed, and one query can be added alone', async (t) => {
  const { app, session } = await buildTestApp(t, { env: { STACKQL_BIN: STANDIN } })
  const one = await session.htmx('POST', '/starter/add', { id: 'aws/s3_buckets' })
  t.match(one.body, 'Added 1 query to your library.')
  const [mine] = await app.db.getQueries()
  const changed = "SELECT Name FROM aws.s3.buckets WHERE region = 'eu-west-1'"
  await app.db.updateQuery(mine!.id, { ...mine!, query_text: changed })
  const all = await session.htmx('POST', '/starter/add', { group: 'aws' })
  t.match(all.body, 'Kept your changed version of AWS S3 buckets.')
  t.match(all.body, /Changed in your library/)
  const after = await app.db.getQueries()
  t.equal(after.find((q) => q.id === mine!.id)?.query_text, changed, "the user's statement is untouched")
  t.equal(after.filter((q) => q.name === 'AWS S3 buckets').length, 1)
  const unknown = await session.htmx('POST', '/starter/add', { id: 'aws/nope' })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.body, /There is no starter query \S*aws\/nope/)
  t.equal((await app.db.getQueries()).length, after.length, 'nothing changed')
})
