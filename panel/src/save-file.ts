/**
 * Hands a Blob to the browser as a download named `filename`, through a blob: URL (which the
 * panel's CSP allows) and a temporary link; the URL is released once the download has it.
 *
 * @example
 *   const { blob, filename } = await api.download('/api/tenants/export', { tenantId }, 'export.json')
 *   saveFile(blob, filename)
 */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  // The download reads the URL asynchronously; revoking at once can cancel it.
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}
