import t from 'tap'
import { KeyringError, SealedSecretError, SecretSealer } from '../../src/secrets/secret-sealer.js'

t.test('seals with a fresh IV and opens again', async (t) => {
  const sealer = SecretSealer.fromKeyring(SecretSealer.generateKeyring('k1'))
  const a = sealer.seal('s3cret')
  const b = sealer.seal('s3cret')
  t.not(a, b, 'two seals of the same secret differ (fresh IV)')
  t.notMatch(a, /s3cret/, 'the sealed value does not contain the secret')
  t.equal(SecretSealer.keyIdOf(a), 'k1', 'the key id is stored with the ciphertext')
  t.equal(sealer.open(a), 's3cret')
})

t.test('a tampered ciphertext fails loudly', async (t) => {
  const sealer = SecretSealer.fromKeyring(SecretSealer.generateKeyring('k1'))
  const sealed = sealer.seal('s3cret')
  const parts = sealed.split(':')
  const data = Buffer.from(parts[4]!, 'base64')
  data[0] = data[0]! ^ 1
  parts[4] = data.toString('base64')
  t.throws(() => sealer.open(parts.join(':')), SealedSecretError)
  t.throws(() => sealer.open('garbage'), SealedSecretError)
})

t.test('rotation: the first key seals, older keys still open', async (t) => {
  const oldRing = SecretSealer.generateKeyring('old')
  const oldSealer = SecretSealer.fromKeyring(oldRing)
  const sealedWithOld = oldSealer.seal('before rotation')
  const rotated = SecretSealer.fromKeyring(`${SecretSealer.generateKeyring('new')},${oldRing}`)
  t.equal(rotated.activeKeyId, 'new')
  t.equal(rotated.open(sealedWithOld), 'before rotation')
  t.equal(SecretSealer.keyIdOf(rotated.seal('after')), 'new')
  t.throws(() => oldSealer.open(rotated.seal('x')), /not in TENANTD_MASTER_KEY/)
})

t.test('bad keyrings are refused with the variable named', async (t) => {
  t.throws(() => SecretSealer.fromKeyring(''), KeyringError)
  t.throws(() => SecretSealer.fromKeyring('k1:dG9vIHNob3J0'), /32 bytes/)
  t.throws(() => SecretSealer.fromKeyring('nokid'), /TENANTD_MASTER_KEY/)
})
