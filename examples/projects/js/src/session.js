const crypto = require('crypto');

const SESSION_TTL_S = 15 * 60;

function sign(secret, payload) {
  return crypto.createHmac('sha256', secret).update(payload).digest('base64url');
}

function issue(secret, subject, nowS) {
  const payload = Buffer.from(JSON.stringify({ sub: subject, exp: nowS + SESSION_TTL_S })).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

function verify(secret, token, nowS) {
  const [payload, sig] = String(token).split('.');
  if (!payload || !sig) return { ok: false, reason: 'malformed' };
  const expected = sign(secret, payload);
  if (sig.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
    return { ok: false, reason: 'signature' };
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (nowS >= claims.exp) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

class RefreshStore {
  constructor() { this.live = new Map(); }
  mint(subject) {
    const t = crypto.randomBytes(16).toString('hex');
    this.live.set(t, subject);
    return t;
  }
  use(token) {
    const subject = this.live.get(token);
    if (!subject) return null;
    this.live.delete(token);
    return { subject, next: this.mint(subject) };
  }
}

module.exports = { issue, verify, RefreshStore, SESSION_TTL_S };
