import type { ComponentChildren } from 'preact'

export interface Sort<K extends string> {
  key: K
  dir: 'asc' | 'desc'
}

/** A column header that sorts the table (aria-sort tells screen readers which way). */
export function SortHeader<K extends string>({ column, sort, onSort, children }: { column: K; sort: Sort<K>; onSort(sort: Sort<K>): void; children: ComponentChildren }) {
  const active = sort.key === column
  const next: Sort<K> = { key: column, dir: active && sort.dir === 'asc' ? 'desc' : 'asc' }
  return (
    <th scope="col" aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort" onClick={() => onSort(next)}>
        {children}
        <span class="sort-mark" aria-hidden="true">
          {active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  )
}
