const { signature, acceptDelivery } = require('../src/webhooks');

const SECRET = 'whsec_example';
const NOW = 1700000000;

describe('webhook signatures', () => {
  test('accepts a correctly signed delivery', () => {
    const body = '{"type":"payment.succeeded"}';
    const sig = signature(SECRET, NOW, body);
    expect(acceptDelivery(SECRET, { timestamp: NOW, body, sig }, NOW + 2)).toBe(true);
  });

  test('rejects deliveries older than five minutes (replay)', () => {
    const body = '{"type":"payment.succeeded"}';
    const sig = signature(SECRET, NOW, body);
    expect(acceptDelivery(SECRET, { timestamp: NOW, body, sig }, NOW + 301)).toBe(false);
  });
});
