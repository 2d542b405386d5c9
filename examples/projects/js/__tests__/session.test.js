const { issue, verify, RefreshStore, SESSION_TTL_S } = require('../src/session');

const SECRET = 'example-only-secret';
const NOW = 1700000000;

describe('session tokens', () => {
  test('accepts a fresh token [cc6-1]', () => {
    const r = verify(SECRET, issue(SECRET, 'merchant-42', NOW), NOW + 1);
    expect(r).toEqual({ ok: true, claims: { sub: 'merchant-42', exp: NOW + SESSION_TTL_S } });
  });

  test('rejects expired tokens [cc6-1]', () => {
    const token = issue(SECRET, 'merchant-42', NOW);
    expect(verify(SECRET, token, NOW + SESSION_TTL_S)).toEqual({ ok: false, reason: 'expired' });
  });

  test('refresh tokens are single use', () => {
    const store = new RefreshStore();
    const first = store.mint('merchant-42');
    expect(store.use(first)).toMatchObject({ subject: 'merchant-42' });
    expect(store.use(first)).toBeNull();
  });
});
