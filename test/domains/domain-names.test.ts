import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { normalizeDomain } from '../../src/domains/domain-names.js'

// Domain name rules and the two configuration variables of custom domains and the edge.

t.test('normalizeDomain keeps valid names, normalized', async (t) => {
  t.equal(normalizeDomain('Shop.Example.COM.', 'tenants.example.com'), 'shop.example.com', 'lower case, trailing dot dropped')
  t.equal(normalizeDomain('  a-b.c9.example  ', 'x.test'), 'a-b.c9.example', 'spaces trimmed')
  t.equal(normalizeDomain('xn--bcher-kva.example', 'x.test'), 'xn--bcher-kva.example', 'punycode is accepted')
  t.equal(normalizeDomain(`${'a'.repeat(63)}.example.com`, 'x.test'), `${'a'.repeat(63)}.example.com`, 'a 63-character label')
  t.equal(normalizeDomain('example.com', 'tenants.example.com'), 'example.com', 'a parent of the base domain is not under it')
})

t.test('normalizeDomain refuses what cannot be a tenant domain', async (t) => {
  for (const [name, why] of [
    ['10.0.0.1', /IP address/],
    ['::1', /IP address/],
    ['app.tenants.example.com', /tenant subdomains/],
    ['tenants.example.com', /tenant subdomains/],
    ['exa mple.com', /letters, digits/],
    ['example.com-', /letters, digits/],
    ['a/b.example.com', /letters, digits/],
  ] as const) {
    t.throws(() => normalizeDomain(name, 'tenants.example.com'), { statusCode: 400, message: why }, name)
  }
})

t.test('TENANTD_TRUSTED_PROXIES and TENANTD_DOMAIN_VERIFY_ADDRESS', async (t) => {
  t.same(loadConfig({}).trustedProxies, ['127.0.0.1', '::1'], 'loopback by default')
  t.same(loadConfig({ TENANTD_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,fd00::/8' }).trustedProxies, ['10.0.0.0/8', '192.0.2.7', 'fd00::/8'])
  for (const bad of ['caddy.internal', '10.0.0.0/33', '10.0.0.1/8/2', '1.2.3', ',']) {
    t.throws(() => loadConfig({ TENANTD_TRUSTED_PROXIES: bad }), { name: 'ConfigError', variable: 'TENANTD_TRUSTED_PROXIES' }, bad)
  }
  t.equal(loadConfig({}).domainVerifyAddress, undefined)
  t.equal(loadConfig({ TENANTD_DOMAIN_VERIFY_ADDRESS: '127.0.0.1:8080' }).domainVerifyAddress, '127.0.0.1:8080')
  t.equal(loadConfig({ TENANTD_DOMAIN_VERIFY_ADDRESS: '[::1]:80' }).domainVerifyAddress, '[::1]:80')
  for (const bad of ['127.0.0.1', 'host:0', 'host:99999', 'http://x:80']) {
    const error = (() => {
      try {
        loadConfig({ TENANTD_DOMAIN_VERIFY_ADDRESS: bad })
      } catch (e) {
        return e
      }
    })()
    t.ok(error instanceof ConfigError && error.variable === 'TENANTD_DOMAIN_VERIFY_ADDRESS', `${bad} is refused naming the variable`)
  }
})
