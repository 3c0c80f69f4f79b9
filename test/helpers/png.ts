import { crc32, deflateSync } from 'node:zlib'

/**
 * A real PNG of an emblem (a blue shield with a gold disc, on transparency), `size` pixels square:
 * a logo for the branding tests and the README's screenshots, made without an image library.
 */
export function emblemPng(size = 96): Buffer {
  const rows: Buffer[] = []
  const c = (size - 1) / 2
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4) // filter byte 0, then RGBA
    for (let x = 0; x < size; x++) {
      const dx = (x - c) / c
      const dy = (y - c) / c
      // A shield: a rectangle on top, a half-disc below.
      const inShield = Math.abs(dx) <= 0.8 && (dy <= 0.1 || dx * dx + ((dy - 0.1) / 0.85) ** 2 <= 0.64) && dy >= -0.85
      const inDisc = dx * dx + (dy + 0.05) ** 2 <= 0.16
      const [r, g, b, a] = !inShield ? [0, 0, 0, 0] : inDisc ? [232, 178, 42, 255] : [37, 76, 196, 255]
      row.set([r, g, b, a], 1 + x * 4)
    }
    rows.push(row)
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 6, 0, 0, 0], 8) // 8-bit RGBA, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))])
}
