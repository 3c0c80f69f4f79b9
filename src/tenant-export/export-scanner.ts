import { createHash, type Hash } from 'node:crypto'
import { InvalidExport } from '../errors.js'

/** What the scanner reports while it reads an export document (export-format.ts). */
export interface ScanHandler {
  /** A top-level member other than "tables", parsed (small by construction). */
  member?(key: string, value: unknown, index: number): void
  /** The "tables" array starts. */
  tablesStart?(): void
  tableStart?(): void
  /** A member of a table object other than "rows" ("name", "columns", "types"), parsed. */
  tableMember?(key: string, value: unknown): void
  rowsStart?(): void
  /** One row: its JSON text without whitespace (when keepRows) and how many values it has. */
  row?(json: Buffer | undefined, values: number): void
  tableEnd?(): void
  /** The document's closing brace. */
  end?(): void
}

export interface ScannerOptions {
  /** Hand each row's JSON text to the handler (the loader needs it, validation does not). */
  keepRows?: boolean
  /** Compute the content digest (export-format.ts), read with digest() at the end. */
  digest?: boolean
}

const enum Lex { Normal, String, Escape, Unicode, Number, Literal }
const enum Expect { Value, ValueOrClose, Key, KeyOrClose, Colon, CommaOrClose, Nothing }
const enum Ctx { Root, Tables, Table, Rows, Other }

interface Frame {
  object: boolean
  ctx: Ctx
  key: string
  /** Values begun in this container so far. */
  count: number
}

/** Largest header member (tenant, migrations, sequences, trailer, a table's columns). */
const MEMBER_LIMIT = 16 * 1024 * 1024
/** Largest single row. */
const ROW_LIMIT = 256 * 1024 * 1024
const KEY_LIMIT = 1024
const DEPTH_LIMIT = 64
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/

/** A growable byte buffer: captured values are copied in slices, not byte by byte. */
class ByteBuilder {
  #buf = Buffer.allocUnsafe(4096)
  length = 0

  append(source: Buffer, from: number, to: number): void {
    const need = this.length + (to - from)
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2))
      this.#buf.copy(grown, 0, 0, this.length)
      this.#buf = grown
    }
    source.copy(this.#buf, this.length, from, to)
    this.length = need
  }

  text(): string {
    return this.#buf.toString('utf8', 0, this.length)
  }

  copy(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.length))
  }

  reset(): void {
    this.length = 0
    // A huge row should not pin its memory for the rest of the document.
    if (this.#buf.length > 8 * 1024 * 1024) this.#buf = Buffer.allocUnsafe(4096)
  }
}

/**
 * A streaming reader of the export document: a validating JSON tokenizer that knows the
 * document's shape, so it holds one small member or one row at a time, never the document.
 * Whitespace between tokens is ignored (and left out of the digest), so a document re-indented
 * or with its line breaks stripped reads the same. Malformed JSON, a wrong shape, or input
 * ending before the closing brace throw InvalidExport naming the byte offset.
 *
 * @example
 *   const scanner = new ExportScanner({ row: (json, n) => rows++ }, { digest: true })
 *   for await (const chunk of body) scanner.write(chunk)
 *   scanner.end()
 *   scanner.digest() // hex SHA-256 of the content before the trailer
 */
export class ExportScanner {
  readonly #handler: ScanHandler
  readonly #keepRows: boolean
  readonly #hash: Hash | undefined
  #lex = Lex.Normal
  #expect = Expect.Value
  readonly #stack: Frame[] = []
  #done = false
  #offset = 0
  // strings
  #inKey = false
  readonly #key = new ByteBuilder()
  #unicodeLeft = 0
  // numbers and literals
  #number = ''
  #literal = ''
  #literalAt = 0
  // the value being captured whole (a header member or a row)
  #capture: ByteBuilder | undefined
  readonly #member = new ByteBuilder()
  readonly #row = new ByteBuilder()
  #captureDepth = 0
  #captureLimit = 0
  #rowValues = 0
  // digest: significant bytes of the current chunk from #runStart are pending
  #runStart = -1
  #hashPaused = false
  #hashStopped = false
  #memberIndex = 0

  constructor(handler: ScanHandler, options: ScannerOptions = {}) {
    this.#handler = handler
    this.#keepRows = options.keepRows ?? false
    this.#hash = options.digest ? createHash('sha256') : undefined
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.#offset
  }

  /** The content digest (hex); only after end(), with the digest option. */
  digest(): string {
    if (!this.#hash) throw new Error('scanner was created without digest')
    return this.#hash.digest('hex')
  }

  write(chunk: Buffer): void {
    const n = chunk.length
    this.#runStart = -1
    let i = 0
    while (i < n) {
      const lex = this.#lex
      if (lex === Lex.String) {
        let j = i
        while (j < n) {
          const c = chunk[j]!
          if (c === 0x22 || c === 0x5c || c < 0x20) break
          j++
        }
        if (j > i) this.#take(chunk, i, j)
        if (j === n) break
        const c = chunk[j]!
        if (c < 0x20) this.#fail('a control character inside a string (JSON escapes them)', j)
        this.#take(chunk, j, j + 1)
        if (c === 0x5c) this.#lex = Lex.Escape
        else {
          this.#lex = Lex.Normal
          this.#endString(j)
        }
        i = j + 1
        continue
      }
      const c = chunk[i]!
      if (lex === Lex.Escape) {
        if (c === 0x75) {
          this.#lex = Lex.Unicode
          this.#unicodeLeft = 4
        } else if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) {
          this.#lex = Lex.String
        } else this.#fail('an invalid escape in a string', i)
        this.#take(chunk, i, i + 1)
        i++
        continue
      }
      if (lex === Lex.Unicode) {
        if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))) this.#fail('an invalid \\u escape in a string', i)
        this.#take(chunk, i, i + 1)
        if (--this.#unicodeLeft === 0) this.#lex = Lex.String
        i++
        continue
      }
      if (lex === Lex.Number) {
        if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) {
          this.#number += String.fromCharCode(c)
          this.#take(chunk, i, i + 1)
          i++
          continue
        }
        if (!NUMBER.test(this.#number)) this.#fail(`an invalid number "${this.#number.slice(0, 40)}"`, i)
        this.#lex = Lex.Normal
        this.#valueEnd(i)
        continue // the byte after the number is read again as a token
      }
      if (lex === Lex.Literal) {
        if (c !== this.#literal.charCodeAt(this.#literalAt)) this.#fail(`an invalid literal (expected ${this.#literal})`, i)
        this.#take(chunk, i, i + 1)
        i++
        if (++this.#literalAt === this.#literal.length) {
          this.#lex = Lex.Normal
          this.#valueEnd(i - 1)
        }
        continue
      }
      // Lex.Normal: between tokens
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        this.#gap(chunk, i)
        i++
        continue
      }
      if (this.#done) this.#fail('data after the end of the document', i)
      switch (c) {
        case 0x7b: // {
        case 0x5b: // [
          this.#beginValue(c, i)
          this.#take(chunk, i, i + 1)
          this.#push(c === 0x7b, i)
          break
        case 0x7d: // }
        case 0x5d: { // ]
          const frame = this.#stack[this.#stack.length - 1]
          const object = c === 0x7d
          if (!frame || frame.object !== object) this.#fail(`an unexpected "${String.fromCharCode(c)}"`, i)
          if (!(this.#expect === Expect.CommaOrClose || (this.#expect === (object ? Expect.KeyOrClose : Expect.ValueOrClose) && frame!.count === 0))) {
            this.#fail(`an unexpected "${String.fromCharCode(c)}"`, i)
          }
          this.#take(chunk, i, i + 1)
          this.#stack.pop()
          if (this.#capture && this.#stack.length === this.#captureDepth) this.#rowValues = frame!.count
          if (!this.#capture && frame!.ctx === Ctx.Table) this.#handler.tableEnd?.()
          this.#valueEnd(i)
          break
        }
        case 0x3a: // :
          if (this.#expect !== Expect.Colon) this.#fail('an unexpected ":"', i)
          this.#take(chunk, i, i + 1)
          this.#expect = Expect.Value
          break
        case 0x2c: { // ,
          if (this.#expect !== Expect.CommaOrClose) this.#fail('an unexpected ","', i)
          const frame = this.#stack[this.#stack.length - 1]!
          if (frame.ctx === Ctx.Root && !this.#capture) {
            // The next key may be "trailer", which the digest leaves out with its comma:
            // hold the comma back until the key is known.
            this.#gap(chunk, i)
            this.#hashPaused = true
          } else this.#take(chunk, i, i + 1)
          this.#expect = frame.object ? Expect.Key : Expect.Value
          break
        }
        case 0x22: // "
          if (this.#expect === Expect.Key || this.#expect === Expect.KeyOrClose) {
            this.#inKey = !this.#capture
            this.#key.reset()
          } else this.#beginValue(c, i)
          this.#take(chunk, i, i + 1)
          this.#lex = Lex.String
          break
        case 0x74: // t
        case 0x66: // f
        case 0x6e: // n
          this.#beginValue(c, i)
          this.#literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null'
          this.#literalAt = 1
          this.#take(chunk, i, i + 1)
          this.#lex = Lex.Literal
          break
        default:
          if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            this.#beginValue(c, i)
            this.#number = String.fromCharCode(c)
            this.#take(chunk, i, i + 1)
            this.#lex = Lex.Number
            break
          }
          this.#fail(`an unexpected byte 0x${c.toString(16).padStart(2, '0')}`, i)
      }
      i++
    }
    this.#gap(chunk, n)
    this.#offset += n
  }

  /** The input ended: throws unless the document was complete. */
  end(): void {
    if (this.#done) return
    if (!this.#started) throw new InvalidExport('the body is empty; send a tenantd export (GET /api/tenants/export, `tenantctl export`)')
    throw new InvalidExport(`the export is truncated: it ends at byte ${this.#offset}, inside the document, before its trailer; export it again`)
  }

  /** Significant bytes [from, to) of the chunk: into the capture or key, and into the digest run. */
  #take(chunk: Buffer, from: number, to: number): void {
    if (this.#capture) {
      this.#capture.append(chunk, from, to)
      if (this.#capture.length > this.#captureLimit) this.#fail(`a value larger than ${this.#captureLimit} bytes`, from)
    } else if (this.#inKey) {
      this.#key.append(chunk, from, to)
      if (this.#key.length > KEY_LIMIT) this.#fail('a key longer than 1 KB', from)
    }
    if (this.#hash && this.#runStart < 0 && !this.#hashPaused && !this.#hashStopped) this.#runStart = from
  }

  /** Whitespace (or a byte held back) at `at`: the digest run so far is hashed. */
  #gap(chunk: Buffer, at: number): void {
    if (this.#runStart >= 0) {
      this.#hash!.update(chunk.subarray(this.#runStart, at))
      this.#runStart = -1
    }
  }

  #push(object: boolean, at: number): void {
    if (this.#stack.length >= DEPTH_LIMIT) this.#fail(`nesting deeper than ${DEPTH_LIMIT}`, at)
    // #beginValue decided what the new container is (#nextCtx).
    this.#stack.push({ object, ctx: this.#nextCtx, key: '', count: 0 })
    this.#expect = object ? Expect.KeyOrClose : Expect.ValueOrClose
  }

  #nextCtx: Ctx = Ctx.Root
  #started = false

  /** A value starts with byte c: checks it is expected here and decides how it is read. */
  #beginValue(c: number, at: number): void {
    if (this.#done) this.#fail('data after the end of the document', at)
    const frame = this.#stack[this.#stack.length - 1]
    if (!frame) {
      if (c !== 0x7b) throw new InvalidExport('this is not a tenantd export: the body is not a JSON object')
      this.#started = true
      this.#nextCtx = Ctx.Root
      return
    }
    if (this.#expect !== Expect.Value && this.#expect !== Expect.ValueOrClose) this.#fail('a value where none belongs', at)
    frame.count++
    this.#nextCtx = Ctx.Other
    if (this.#capture) {
      if (this.#capture === this.#row && this.#stack.length === this.#captureDepth + 1 && c !== 0x22 && c !== 0x6e) {
        this.#fail('a row value that is neither a string nor null', at)
      }
      return
    }
    switch (frame.ctx) {
      case Ctx.Root:
        if (frame.key === 'tables') {
          if (c !== 0x5b) this.#fail('"tables" that is not an array', at)
          this.#handler.tablesStart?.()
          this.#nextCtx = Ctx.Tables
          return
        }
        return this.#startCapture(this.#member, MEMBER_LIMIT)
      case Ctx.Tables:
        if (c !== 0x7b) this.#fail('a table that is not an object', at)
        this.#handler.tableStart?.()
        this.#nextCtx = Ctx.Table
        return
      case Ctx.Table:
        if (frame.key === 'rows') {
          if (c !== 0x5b) this.#fail('"rows" that is not an array', at)
          this.#handler.rowsStart?.()
          this.#nextCtx = Ctx.Rows
          return
        }
        return this.#startCapture(this.#member, MEMBER_LIMIT)
      case Ctx.Rows:
        if (c !== 0x5b) this.#fail('a row that is not an array', at)
        return this.#startCapture(this.#row, ROW_LIMIT)
      default:
        this.#fail('an unexpected value', at)
    }
  }

  #startCapture(builder: ByteBuilder, limit: number): void {
    builder.reset()
    this.#capture = builder
    this.#captureLimit = limit
    this.#captureDepth = this.#stack.length
  }

  /** A string ended at `at` (its closing quote already taken). */
  #endString(at: number): void {
    if (this.#expect === Expect.Key || this.#expect === Expect.KeyOrClose) {
      const frame = this.#stack[this.#stack.length - 1]!
      if (this.#inKey) {
        this.#inKey = false
        const raw = this.#key.text()
        frame.key = JSON.parse(raw) as string
        if (this.#hashPaused) {
          if (frame.key === 'trailer') this.#hashStopped = true
          else this.#hash?.update(`,${raw}`)
          this.#hashPaused = false
        }
      }
      this.#expect = Expect.Colon
      return
    }
    this.#valueEnd(at)
  }

  /** A value ended (scalar, or a container just popped). */
  #valueEnd(at: number): void {
    const parent = this.#stack[this.#stack.length - 1]
    if (this.#capture && this.#stack.length === this.#captureDepth) {
      const capture = this.#capture
      this.#capture = undefined
      if (parent!.ctx === Ctx.Rows) {
        this.#handler.row?.(this.#keepRows ? capture.copy() : undefined, this.#rowValues)
      } else {
        let value: unknown
        try {
          value = JSON.parse(capture.text())
        } catch (error) {
          this.#fail(`a value that does not parse (${(error as Error).message})`, at)
        }
        if (parent!.ctx === Ctx.Root) this.#handler.member?.(parent!.key, value, this.#memberIndex++)
        else this.#handler.tableMember?.(parent!.key, value)
      }
    }
    if (!parent) {
      this.#done = true
      this.#expect = Expect.Nothing
      this.#handler.end?.()
      return
    }
    this.#expect = Expect.CommaOrClose
  }

  #fail(what: string, at: number): never {
    throw new InvalidExport(`the export is not valid: ${what} at byte ${this.#offset + at}`)
  }
}
