// Fixed-window limiter per API key.
class RateLimiter {
  constructor(limit, windowS) { this.limit = limit; this.windowS = windowS; this.hits = new Map(); }
  allow(key, nowS) {
    const window = Math.floor(nowS / this.windowS);
    const entry = this.hits.get(key);
    if (!entry || entry.window !== window) {
      this.hits.set(key, { window, count: 1 });
      return true;
    }
    entry.count += 1;
    return entry.count <= this.limit;
  }
}

module.exports = { RateLimiter };
