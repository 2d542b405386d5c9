const { RateLimiter } = require('../src/rateLimit');

describe('rate limiting', () => {
  test('throttles a key past its per-minute budget', () => {
    const rl = new RateLimiter(3, 60);
    const results = [0, 1, 2, 3].map(() => rl.allow('key_live_1', 120));
    expect(results).toEqual([true, true, true, false]);
  });
});
