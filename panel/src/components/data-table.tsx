import type { ComponentChildren } from 'preact'

/** A column header: its text, or `{ label, num }` for a right-aligned number column. */
export type Column = ComponentChildren | { label: ComponentChildren; num: true }

/** The header of a column of row actions: named for screen readers, not shown. */
export const actionsColumn: Column = <span class="visually-hidden">Actions</span>

/**
 * A table in a horizontally scrollable, keyboard-focusable region named `label` (how screen
 * readers and the browser tests find it), with one header row; `false` columns are left out
 * (e.g. `canManage && actionsColumn`). The rows are the children.
 *
 * @example
 *   <DataTable label="Backups" columns={['Taken', 'State', { label: 'Size', num: true }, canManage && actionsColumn]}>
 *     {items.map((b) => <tr key={b.id}>...</tr>)}
 *   </DataTable>
 */
export function DataTable({ label, columns, compact, children }: { label: string; columns: Array<Column | false>; compact?: boolean; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table class={compact ? 'table table-compact' : 'table'}>
        <thead>
          <tr>
            {columns.map((column, i) =>
              column === false ? null : isNumber(column) ? (
                <th key={i} scope="col" class="num">
                  {column.label}
                </th>
              ) : (
                <th key={i} scope="col">
                  {column}
                </th>
              )
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  )
}

function isNumber(column: Column): column is { label: ComponentChildren; num: true } {
  return typeof column === 'object' && column !== null && 'num' in column
}
