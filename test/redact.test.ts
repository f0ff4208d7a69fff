import t from 'tap'
import { REDACTED, redact, redactAndTruncate, secretForms } from '../src/stackql/redact.js'

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY"EXAMPLE KEY&x=1'
const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  '-----END PRIVATE KEY-----',
].join('\n')
const GOOGLE_CREDENTIALS = JSON.stringify({
  type: 'service_account',
  project_id: 'my-project',
  private_key_id: 'd41d8cd98f00b204e9800998ecf8427e',
  private_key: `${PEM}\n`,
  client_email: 'svc@my-project.iam.gserviceaccount.com',
})

const clean = (text: string, values: string[]) => redact(text, secretForms(values))

t.test('finding 6 (redaction): each form of a value is redacted', async (t) => {
  const b64 = Buffer.from(SECRET).toString('base64')
  const cases: Record<string, string> = {
    plain: `denied for ${SECRET} here`,
    'JSON-escaped': `{"message":"denied for ${JSON.stringify(SECRET).slice(1, -1)}"}`,
    'JSON-escaped twice': JSON.stringify(JSON.stringify({ k: SECRET })),
    'URL-encoded': `GET /?key=${encodeURIComponent(SECRET)}&v=1`,
    'URL-encoded (form, +)': `body: key=${encodeURIComponent(SECRET).replace(/%20/g, '+')}`,
    'URL-encoded (lower-case hex)': `key=${encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
    base64: `Authorization: Basic ${b64}`,
    base64url: `token=${Buffer.from(SECRET).toString('base64url')}`,
    'base64 inside a longer base64 (offset 1)': Buffer.from(`u${SECRET}`).toString('base64'),
    'base64 inside a longer base64 (offset 2)': Buffer.from(`us:${SECRET}!`).toString('base64'),
  }
  for (const [form, text] of Object.entries(cases)) {
    const out = clean(text, [SECRET])
    t.match(out, REDACTED, `${form}: something was redacted`)
    t.notMatch(out, /wJalrX|d0phbHJY|V0phbH|3SmFscl/, `${form}: no trace of the value (${out})`)
  }
})

t.test(
  'finding 6 (redaction): each line of a multi-line value, and the PEM key inside GOOGLE_CREDENTIALS',
  async (t) => {
    const line = PEM.split('\n')[1]!
    t.equal(clean(`bad key line: ${line}`, [PEM]), `bad key line: ${REDACTED}`)
    // The provider decodes the JSON and echoes the key with real newlines, or one line of it.
    const echoed = clean(`could not parse key:\n${PEM}\nand ${PEM.split('\n')[2]}`, [GOOGLE_CREDENTIALS])
    t.notMatch(echoed, /MIIEvQ|MzEfYy/, echoed)
    t.match(clean(`key ${PEM}`, [GOOGLE_CREDENTIALS]), `key ${REDACTED}`, 'the whole key at once')
    t.match(clean(GOOGLE_CREDENTIALS, [GOOGLE_CREDENTIALS]), REDACTED)
    t.match(
      clean('key id d41d8cd98f00b204e9800998ecf8427e unknown', [GOOGLE_CREDENTIALS]),
      `key id ${REDACTED} unknown`,
      'a secret field of the JSON on its own',
    )
    t.equal(
      clean('project my-project not found', [GOOGLE_CREDENTIALS]),
      'project my-project not found',
      'fields that name no secret stay readable',
    )
  },
)

t.test('finding 6 (redaction): a cut never leaves the beginning of a value', async (t) => {
  const forms = secretForms([SECRET])
  const text = `${'.'.repeat(100)}key=${SECRET} tail`
  const cut = redactAndTruncate(text, forms, 110)
  t.notMatch(cut, /wJal/)
  // The reader stopped collecting in the middle of the value.
  const collected = `error: key=${SECRET.slice(0, 9)}`
  t.equal(redactAndTruncate(collected, forms, 1000, true), `error: key=${REDACTED}`)
  t.equal(redactAndTruncate('plain text', forms, 1000, true), 'plain text', 'nothing to drop')
})

t.test('short values are not redacted (a 3-character value would blank ordinary words)', async (t) => {
  t.equal(clean('use us-east-1 or abc', ['abc']), 'use us-east-1 or abc')
})
