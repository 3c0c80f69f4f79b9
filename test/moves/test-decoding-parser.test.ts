import t from 'tap'
import { parseChange } from '../../src/moves/test-decoding-parser.js'

// The lines PostgreSQL's test_decoding prints, as a move reads them from its slot.

t.test('inserts: quoted and bare values, NULL, quotes doubled, array types', async (t) => {
  const change = parseChange(
    `table public.cp_fornecedores: INSERT: id[uuid]:'6fdc17bf-ba5c-4bdf-8c63-ac0b24d0f7ca' nome[text]:'O''Brien & filhos' ativo[boolean]:true n[numeric]:10.50 tags[text[]]:'{a,"b c"}' email[character varying]:null`
  )
  t.same(change, {
    kind: 'insert',
    schema: 'public',
    name: 'cp_fornecedores',
    columns: { id: '6fdc17bf-ba5c-4bdf-8c63-ac0b24d0f7ca', nome: "O'Brien & filhos", ativo: 'true', n: '10.50', tags: '{a,"b c"}', email: null },
  })
})

t.test('quoted identifiers, values with spaces and colons', async (t) => {
  const change = parseChange(`table "Sales"."Order Lines": INSERT: "Line No"[integer]:3 note[text]:'a: b [c]:d' "we""ird"[text]:'x'`)
  t.same(change, { kind: 'insert', schema: 'Sales', name: 'Order Lines', columns: { 'Line No': '3', note: 'a: b [c]:d', 'we"ird': 'x' } })
})

t.test('updates: unchanged TOASTed values left out; a changed key comes as old-key', async (t) => {
  t.same(parseChange(`table public.t: UPDATE: id[integer]:1 body[text]:unchanged-toast-datum name[text]:'n'`), {
    kind: 'update',
    schema: 'public',
    name: 't',
    columns: { id: '1', name: 'n' },
  })
  t.same(parseChange(`table public.t: UPDATE: old-key: id[integer]:1 new-tuple: id[integer]:2 name[text]:'n'`), {
    kind: 'update',
    schema: 'public',
    name: 't',
    columns: { id: '2', name: 'n' },
    oldKey: { id: '1' },
  })
})

t.test('deletes name their key; truncates; a table without a key is refused', async (t) => {
  t.same(parseChange(`table public.t: DELETE: id[integer]:7`), { kind: 'delete', schema: 'public', name: 't', oldKey: { id: '7' } })
  t.same(parseChange(`table public.t: TRUNCATE: (no-flags)`), { kind: 'truncate', schema: 'public', name: 't' })
  t.throws(() => parseChange(`table public.nokey: DELETE: (no-tuple-data)`), /no primary key/)
  t.throws(() => parseChange(`table public.t: MERGE: x`), /unknown change/)
})
