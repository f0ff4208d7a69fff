// A lossless, incremental parser for what `stackql exec --output json` prints: ONE top-level JSON
// array of objects. JSON.parse would round numbers beyond 2^53 (and decimals a double cannot hold)
// before anyone could type them; here a number token becomes a JS number only when that number has
// exactly the token's value, otherwise it stays its raw token text (a string), everywhere in a row.
//
// Text is fed in chunks (`push`), complete rows come out as soon as their closing brace arrives, so
// the same parser can sit on a stream. Each row's text is first scanned (strings skipped with
// indexOf); rows without risky number tokens go to the native JSON.parse (consecutive ones in one
// call), the rest through the exact parser below. Risky = an exponent, or more than 15 digits: a
// decimal of at most 15 significant digits always comes back from a double unchanged (DBL_DIG).

import { JsonRowsError, parseExact } from './json-exact.js'

export { JsonRowsError, parseExact }

type State = 'start' | 'element' | 'inElement' | 'afterElement' | 'done' | 'null'

const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

export class JsonRowsParser {
  /** Unconsumed text: from the start of an unfinished element, or what follows the last one. */
  private buf = ''
  private i = 0
  private state: State = 'start'
  /** After a comma: a row must follow (`,]` is an error). */
  private expectElement = false
  /** Where the current element starts in buf, its nesting depth, string state and risk. */
  private elementStart = 0
  private depth = 0
  private inString = false
  private risky = false
  /** Inside a number token: how many digits it has so far, leading zeros included (-1 outside one). */
  private numberDigits = -1

  /** True once the whole array (or `null`) has been read. */
  get finished(): boolean {
    return this.state === 'done'
  }

  /** Feeds more text; returns the elements it completed (whether they are objects is the caller's check). */
  push(chunk: string): unknown[] {
    this.buf += chunk
    const out: unknown[] = []
    this.scan(out)
    // Keep only what an unfinished element still needs.
    const keep = this.state === 'inElement' ? this.elementStart : this.i
    if (keep > 0) {
      this.buf = this.buf.slice(keep)
      this.i -= keep
      this.elementStart -= keep
    }
    return out
  }

  /** Ends the input; throws when the text was not one complete array. Empty input is no rows. */
  end(): unknown[] {
    const out = this.push('')
    if (this.state === 'start') return out
    if (this.state === 'null' && this.buf.trim() === 'null') {
      this.state = 'done'
      return out
    }
    if (this.state !== 'done') throw new JsonRowsError('the JSON array is not complete')
    return out
  }

  private scan(out: unknown[]): void {
    const s = this.buf
    const n = s.length
    let i = this.i
    let batchStart = -1
    let batchEnd = -1
    const flush = () => {
      if (batchStart < 0) return
      const rows = parseNative(`[${s.slice(batchStart, batchEnd)}]`) as unknown[]
      for (const r of rows) out.push(r)
      batchStart = -1
    }
    while (i < n) {
      const c = s.charCodeAt(i)
      switch (this.state) {
        case 'start':
          if (WS(c)) i++
          else if (c === 0x5b) {
            this.state = 'element'
            i++
          } else if (c === 0x6e) this.state = 'null'
          else throw new JsonRowsError('not a JSON array')
          break
        case 'null': {
          // `null` (zero rows), possibly split across chunks: completed at end().
          const rest = s.slice(i).trimEnd()
          if (!(rest.length <= 4 ? 'null'.startsWith(rest) : /^null\s+$/.test(s.slice(i)))) {
            throw new JsonRowsError('not a JSON array')
          }
          this.i = i
          return
        }
        case 'element':
        case 'afterElement':
          if (WS(c)) i++
          else if (c === 0x5d) {
            if (this.expectElement) throw new JsonRowsError('a comma before the closing bracket')
            this.state = 'done'
            i++
          } else if (this.state === 'afterElement') {
            if (c !== 0x2c) throw new JsonRowsError(`unexpected ${JSON.stringify(s[i])} between rows`)
            this.state = 'element'
            this.expectElement = true
            i++
          } else {
            this.state = 'inElement'
            this.elementStart = i
            this.depth = 0
            this.inString = false
            this.risky = false
            this.numberDigits = -1
          }
          break
        case 'inElement':
          i = this.scanElement(s, i)
          if ((this.state as State) === 'afterElement') {
            if (this.risky) {
              flush()
              out.push(parseExact(s.slice(this.elementStart, i)))
            } else {
              // Consecutive plain rows are parsed by ONE native JSON.parse call (the text between
              // them is only commas and whitespace).
              if (batchStart < 0) batchStart = this.elementStart
              batchEnd = i
            }
            this.expectElement = false
            this.elementStart = i
          }
          break
        case 'done':
          if (WS(c)) i++
          else throw new JsonRowsError(c === 0x5b ? 'several result sets' : 'text after the JSON array')
          break
      }
    }
    flush()
    this.i = i
  }

  /** Advances through one element; sets state 'afterElement' where it ends. Returns the new index. */
  private scanElement(s: string, from: number): number {
    const n = s.length
    let i = from
    while (i < n) {
      if (this.inString) {
        const q = s.indexOf('"', i)
        if (q < 0) return n
        let b = q - 1
        while (b >= this.elementStart && s.charCodeAt(b) === 0x5c) b--
        i = q + 1
        if ((q - 1 - b) % 2 === 0) this.inString = false
        continue
      }
      const c = s.charCodeAt(i)
      if (this.numberDigits >= 0) {
        if (c >= 0x30 && c <= 0x39) {
          if (++this.numberDigits > 15) this.risky = true
          i++
          continue
        }
        if (c === 0x2e) {
          i++
          continue
        }
        if (c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) {
          this.risky = true
          i++
          continue
        }
        this.numberDigits = -1
      }
      if (c === 0x22) {
        this.inString = true
        i++
      } else if (c === 0x7b || c === 0x5b) {
        this.depth++
        i++
      } else if (c === 0x7d || c === 0x5d) {
        if (this.depth === 0) {
          // A scalar element ended by the array's bracket.
          this.state = 'afterElement'
          return i
        }
        i++
        if (--this.depth === 0) {
          this.state = 'afterElement'
          return i
        }
      } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) {
        this.numberDigits = c === 0x2d ? 0 : 1
        i++
      } else if (this.depth === 0 && (c === 0x2c || WS(c))) {
        // A scalar element (a number, true, null...) ends here; the caller reports "not an object".
        this.state = 'afterElement'
        return i
      } else i++
    }
    return i
  }
}

function parseNative(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new JsonRowsError((e as Error).message)
  }
}
