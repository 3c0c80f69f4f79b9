import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { BackupFileError, createBackupDecryptor, createBackupEncryptor } from '../../src/backups/backup-cipher.js'
import { SecretSealer } from '../../src/secrets/secret-sealer.js'

// The backup file format streams records part by part (no record is copied into one buffer);
// whatever the sizes of the pieces that come in, the bytes that come out must be the same.

const sealer = SecretSealer.fromKeyring(SecretSealer.generateKeyring('k1'))
const identity = { tenantId: 't-1', backupId: 'b-1' }
const chunkSize = 1024

/** `data` cut into pieces of random sizes (1 byte to 3 records), as a pipe might deliver it. */
function pieces(data: Buffer, max = chunkSize * 3): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < data.length; ) {
    const n = Math.min(data.length - at, 1 + Math.floor(Math.random() * max))
    out.push(data.subarray(at, at + n))
    at += n
  }
  return out
}

async function collect(source: Buffer[], transform: NodeJS.ReadWriteStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  await pipeline(
    Readable.from(source),
    transform,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk)
        done()
      },
    })
  )
  return Buffer.concat(chunks)
}

const encrypt = (plain: Buffer) => collect(pieces(plain), createBackupEncryptor(sealer, identity, chunkSize))
const decrypt = (file: Buffer) => collect(pieces(file), createBackupDecryptor(sealer, identity))

t.test('round trips at and around record boundaries, whatever the pieces', async (t) => {
  for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3 * chunkSize, 3 * chunkSize + 17, 50_000]) {
    const plain = randomBytes(size)
    for (let round = 0; round < 4; round++) {
      const file = await encrypt(plain)
      const records = Math.max(1, Math.ceil(size / chunkSize))
      t.ok(file.length > size + records * 16, `${size} bytes: the file holds a tag per record`)
      t.ok((await decrypt(file)).equals(plain), `${size} bytes, round ${round}: decrypted exactly`)
    }
  }
})

t.test('a flipped bit, a dropped final record and a foreign identity are refused', async (t) => {
  const plain = randomBytes(5 * chunkSize)
  const file = await encrypt(plain)
  const flipped = Buffer.from(file)
  flipped[flipped.length - 100] = flipped[flipped.length - 100]! ^ 1
  await t.rejects(decrypt(flipped), BackupFileError)
  // Records are chunkSize + 16 bytes after the header: drop the last one whole.
  const truncated = file.subarray(0, file.length - (chunkSize + 16))
  await t.rejects(decrypt(truncated), /truncated/)
  await t.rejects(collect([file], createBackupDecryptor(sealer, { tenantId: 't-2', backupId: 'b-1' })), /swapped or misplaced/)
})
