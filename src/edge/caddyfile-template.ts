/** Values a template is rendered with: text, flags for `{{#name}}` sections, or lists of rows. */
export type TemplateValue = string | number | boolean | TemplateRow[]
export interface TemplateRow {
  [name: string]: TemplateValue
}

export class TemplateError extends Error {
  constructor(
    readonly line: number,
    problem: string
  ) {
    super(`Caddyfile template line ${line}: ${problem}`)
    this.name = 'TemplateError'
  }
}

type Node = { kind: 'text'; text: string } | { kind: 'value'; name: string; line: number } | { kind: 'section'; name: string; line: number; inverted: boolean; children: Node[] }

const TAG = /\{\{\s*([#^/]?)\s*([a-z_][a-z0-9_]*)\s*\}\}/g

/**
 * A tiny mustache-like template, enough for a Caddyfile and strict where mustache is lenient:
 * `{{name}}` inserts a value, `{{#name}}...{{/name}}` repeats a list or shows a true flag,
 * `{{^name}}...{{/name}}` shows when empty or false. An unknown name, a list used as a value or
 * an unbalanced section is an error naming the template line, so a broken template is
 * refused before anything is written. A line holding only a section tag leaves no blank line;
 * a line starting with `##` is a template comment.
 *
 * @example
 *   const t = parseTemplate('{{#tenants}}{{address}} {\n}\n{{/tenants}}')
 *   renderTemplate(t, { tenants: [{ address: 'acme.example.com' }] })
 */
export function parseTemplate(source: string): Node[] {
  const root: Node[] = []
  const stack: Array<{ node: Extract<Node, { kind: 'section' }>; line: number }> = []
  const lines = source.split('\n')
  lines.forEach((raw, index) => {
    const line = index + 1
    // `##` lines document the template itself: neither parsed nor rendered.
    if (/^\s*##/.test(raw)) return
    const text = index < lines.length - 1 ? `${raw}\n` : raw
    const target = () => (stack.length ? stack[stack.length - 1]!.node.children : root)
    const standalone = /^\s*\{\{\s*[#^/]\s*[a-z_][a-z0-9_]*\s*\}\}\s*$/.test(raw)
    if (/\{\{(?![^}]*\}\})/.test(raw.replace(TAG, ''))) throw new TemplateError(line, 'an opening "{{" has no closing "}}"')
    let last = 0
    for (const match of raw.matchAll(TAG)) {
      if (!standalone && match.index! > last) target().push({ kind: 'text', text: raw.slice(last, match.index) })
      last = match.index! + match[0].length
      const [, sigil, name] = match as unknown as [string, string, string]
      if (sigil === '#' || sigil === '^') {
        const node = { kind: 'section' as const, name, line, inverted: sigil === '^', children: [] as Node[] }
        target().push(node)
        stack.push({ node, line })
      } else if (sigil === '/') {
        const open = stack.pop()
        if (!open) throw new TemplateError(line, `"{{/${name}}}" closes a section that was never opened`)
        if (open.node.name !== name) throw new TemplateError(line, `"{{/${name}}}" closes "{{#${open.node.name}}}" opened on line ${open.line}`)
      } else {
        target().push({ kind: 'value', name, line })
      }
    }
    if (standalone) return
    const rest = text.slice(last)
    if (rest) target().push({ kind: 'text', text: rest })
  })
  const open = stack.pop()
  if (open) throw new TemplateError(open.line, `"{{#${open.node.name}}}" is never closed with "{{/${open.node.name}}}"`)
  return root
}

/** Renders a parsed template; names resolve in the innermost row first, then outwards. */
export function renderTemplate(nodes: Node[], data: TemplateRow): string {
  return renderNodes(nodes, [data])
}

function renderNodes(nodes: Node[], scopes: TemplateRow[]): string {
  let out = ''
  for (const node of nodes) {
    if (node.kind === 'text') {
      out += node.text
      continue
    }
    const value = lookup(scopes, node.name, node.line)
    if (node.kind === 'value') {
      if (Array.isArray(value)) throw new TemplateError(node.line, `"{{${node.name}}}" is a list; use {{#${node.name}}} ... {{/${node.name}}}`)
      out += String(value)
      continue
    }
    const truthy = Array.isArray(value) ? value.length > 0 : Boolean(value)
    if (node.inverted) {
      if (!truthy) out += renderNodes(node.children, scopes)
    } else if (Array.isArray(value)) {
      for (const row of value) out += renderNodes(node.children, [...scopes, row])
    } else if (truthy) {
      out += renderNodes(node.children, scopes)
    }
  }
  return out
}

function lookup(scopes: TemplateRow[], name: string, line: number): TemplateValue {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const value = scopes[i]![name]
    if (value !== undefined) return value
  }
  throw new TemplateError(line, `unknown placeholder "{{${name}}}"; the placeholders are listed at the top of Caddyfile.tmpl`)
}
