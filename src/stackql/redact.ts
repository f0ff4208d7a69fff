// Defence in depth for StackQL's stderr: a provider error that echoes a credential (AWS echoes key
// ids, a proxy may echo a URL-encoded query string, a JSON body carries escaped text) must not carry
// it on. Every form a value may take is replaced by `[redacted]` BEFORE the text is cut to length,
// and a cut never leaves the beginning of a value at the end of the text.

export const REDACTED = '[redacted]'
/** Shorter fragments (a line, a base64 core) are too likely to match ordinary text. */
const MIN_FRAGMENT = 8
/** Values shorter than this are not redacted at all (e.g. a region name mapped as a "secret"). */
const MIN_VALUE = 4
/** JSON keys whose string values are secrets in their own right (GOOGLE_CREDENTIALS' private_key). */
const SECRET_KEY = /key|secret|token|password|credential/i

/** The base64 characters that depend only on `value`, when it sits at byte offset `shift` (0–2) of a longer base64 stream. */
function base64Cores(value: Buffer): string[] {
  const out: string[] = []
  for (const shift of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(shift), value, Buffer.alloc(3)])
    const text = padded.toString('base64')
    const from = Math.ceil((shift * 8) / 6)
    const to = Math.floor(((shift + value.length) * 8) / 6)
    const core = text.slice(from, to)
    if (core.length >= MIN_FRAGMENT) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'))
  }
  return out
}

/** The encodings a provider, an HTTP layer or a JSON body may print a value in. */
function encodings(value: string): string[] {
  const forms = [value]
  const json = JSON.stringify(value).slice(1, -1)
  forms.push(json, JSON.stringify(json).slice(1, -1))
  const url = encodeURIComponent(value)
  forms.push(
    url,
    url.replace(/%20/g, '+'),
    url.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  )
  forms.push(...base64Cores(Buffer.from(value, 'utf8')))
  return forms
}

/** String leaves of a JSON document whose key names a secret (e.g. private_key in a service-account file). */
function secretLeaves(value: string): string[] {
  const text = value.trim()
  if (!text.startsWith('{')) return []
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return []
  }
  const out: string[] = []
  const walk = (node: unknown, key: string) => {
    if (typeof node === 'string') {
      if (SECRET_KEY.test(key)) out.push(node)
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) walk(v, Array.isArray(node) ? key : k)
    }
  }
  walk(doc, '')
  return out
}

/**
 * Every form of the given secret values to look for, longest first: the value, its JSON-escaped,
 * URL-encoded and base64 forms, each line of a multi-line value (PEM keys), and the secret string
 * fields of a JSON value (and their lines).
 */
export function secretForms(values: Iterable<string>): string[] {
  const bases = new Set<string>()
  for (const value of values) {
    if (value.length < MIN_VALUE) continue
    const parts = [value, ...secretLeaves(value)]
    for (const part of parts) {
      if (part.length >= MIN_VALUE) bases.add(part)
      for (const line of part.split(/\r?\n/)) {
        const trimmed = line.trim()
        if (trimmed.length >= MIN_FRAGMENT && trimmed !== part) bases.add(trimmed)
      }
    }
  }
  const forms = new Set<string>()
  for (const base of bases) for (const f of encodings(base)) if (f.length >= MIN_VALUE) forms.add(f)
  return [...forms].sort((a, b) => b.length - a.length)
}

/** Replaces every occurrence of every form (longest first, so a value's line does not half-match it). */
export function redact(text: string, forms: readonly string[]): string {
  let out = text
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(REDACTED)
  return out
}

/** Drops a tail of `text` (2+ characters) that is the beginning of a form: what a cut through a value leaves. */
function dropCutValue(text: string, forms: readonly string[]): string {
  let cut = 0
  for (const f of forms) {
    for (let k = Math.min(f.length - 1, text.length); k > Math.max(cut, 1); k--) {
      if (text.endsWith(f.slice(0, k))) {
        cut = k
        break
      }
    }
  }
  return cut > 0 ? `${text.slice(0, text.length - cut)}${REDACTED}` : text
}

/**
 * Redacts, then cuts to `maxChars`. `wasCut` says the text is already the beginning of a longer
 * output (the reader stopped collecting): its tail may hold the start of a value, so it is dropped.
 */
export function redactAndTruncate(
  text: string,
  forms: readonly string[],
  maxChars: number,
  wasCut = false,
): string {
  let out = redact(text, forms)
  if (wasCut) out = dropCutValue(out, forms)
  if (out.length <= maxChars) return out
  return `${dropCutValue(out.slice(0, maxChars), forms)}…`
}
