/** One row change as the `test_decoding` output plugin prints it. */
export interface DecodedChange {
  kind: 'insert' | 'update' | 'delete' | 'truncate'
  schema: string
  name: string
  /** Column values of the new row (insert, update), as text; null for SQL NULL. Unchanged TOASTed columns are left out. */
  columns?: Record<string, string | null>
  /** Key columns identifying the old row (delete; update when the key changed). */
  oldKey?: Record<string, string | null>
}

/**
 * Parses one `table ...` line of test_decoding output, e.g.
 * `table public.users: UPDATE: old-key: id[uuid]:'1' new-tuple: id[uuid]:'2' name[text]:'O''Brien'`.
 * Identifiers come quoted as quote_identifier() quotes them; values are `null`, a bare token
 * (numbers, booleans) or a quoted literal with '' for a quote; TOASTed values an update did not
 * change print as `unchanged-toast-datum` and are left out.
 *
 * @example
 *   parseChange("table public.t: DELETE: id[integer]:7")   // { kind: 'delete', schema: 'public', table: 't', oldKey: { id: '7' } }
 */
export function parseChange(line: string): DecodedChange {
  const p = new Cursor(line)
  p.expect('table ')
  const schema = p.identifier()
  p.expect('.')
  const table = p.identifier()
  p.expect(': ')
  const action = p.until(':')
  p.expect(':')
  const kind = ({ INSERT: 'insert', UPDATE: 'update', DELETE: 'delete', TRUNCATE: 'truncate' } as const)[action]
  if (!kind) throw new Error(`unknown change "${action}" in decoded change of ${schema}.${table}`)
  if (kind === 'truncate') return { kind, schema, name: table }
  p.skipSpaces()
  if (p.rest().startsWith('(no-tuple-data)')) {
    throw new Error(`the change of ${schema}.${table} carries no row data (the table has no primary key or replica identity)`)
  }
  let oldKey: Record<string, string | null> | undefined
  if (p.rest().startsWith('old-key:')) {
    p.expect('old-key:')
    oldKey = p.tuple('new-tuple:')
    p.expect('new-tuple:')
  }
  const values = p.tuple()
  if (kind === 'delete') return { kind, schema, name: table, oldKey: values }
  return { kind, schema, name: table, columns: values, ...(oldKey ? { oldKey } : {}) }
}

class Cursor {
  #i = 0
  constructor(readonly text: string) {}

  rest(): string {
    return this.text.slice(this.#i)
  }

  expect(token: string): void {
    if (!this.text.startsWith(token, this.#i)) throw new Error(`cannot parse decoded change near "${this.text.slice(this.#i, this.#i + 40)}"`)
    this.#i += token.length
  }

  skipSpaces(): void {
    while (this.text[this.#i] === ' ') this.#i++
  }

  until(char: string): string {
    const end = this.text.indexOf(char, this.#i)
    if (end < 0) throw new Error('cannot parse decoded change: truncated line')
    const value = this.text.slice(this.#i, end)
    this.#i = end
    return value
  }

  /** An identifier: "quoted" (with "" for a quote) or bare up to one of the stop characters. */
  identifier(stops = '.:[ '): string {
    if (this.text[this.#i] === '"') {
      let out = ''
      this.#i++
      for (;;) {
        const c = this.text[this.#i]
        if (c === undefined) throw new Error('cannot parse decoded change: unterminated identifier')
        this.#i++
        if (c === '"') {
          if (this.text[this.#i] === '"') {
            out += '"'
            this.#i++
            continue
          }
          return out
        }
        out += c
      }
    }
    const start = this.#i
    while (this.#i < this.text.length && !stops.includes(this.text[this.#i]!)) this.#i++
    return this.text.slice(start, this.#i)
  }

  /** `name[type]:value` pairs separated by spaces, up to the end or a marker. */
  tuple(stopAt?: string): Record<string, string | null> {
    const values: Record<string, string | null> = {}
    for (;;) {
      this.skipSpaces()
      if (this.#i >= this.text.length || (stopAt && this.text.startsWith(stopAt, this.#i))) return values
      const name = this.identifier('[')
      this.expect('[')
      // The type may itself hold brackets (integer[]): it ends at the first "]:".
      const close = this.text.indexOf(']:', this.#i)
      if (close < 0) throw new Error('cannot parse decoded change: no type')
      this.#i = close + 2
      const value = this.value()
      if (value !== unchanged) values[name] = value
    }
  }

  value(): string | null | typeof unchanged {
    if (this.text[this.#i] === "'") {
      let out = ''
      this.#i++
      for (;;) {
        const next = this.text.indexOf("'", this.#i)
        if (next < 0) throw new Error('cannot parse decoded change: unterminated literal')
        out += this.text.slice(this.#i, next)
        this.#i = next + 1
        if (this.text[this.#i] === "'") {
          out += "'"
          this.#i++
          continue
        }
        return out
      }
    }
    const start = this.#i
    while (this.#i < this.text.length && this.text[this.#i] !== ' ') this.#i++
    const token = this.text.slice(start, this.#i)
    if (token === 'null') return null
    if (token === 'unchanged-toast-datum') return unchanged
    return token
  }
}

const unchanged = Symbol('unchanged-toast-datum')
