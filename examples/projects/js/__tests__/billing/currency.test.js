const { toMinor } = require('../../src/billing/currency');

describe('currency', () => {
  test('converts to minor units per ISO 4217 exponent', () => {
    expect(toMinor('12.34', 'USD')).toBe(1234);
    expect(toMinor('1500', 'JPY')).toBe(1500);
    expect(toMinor('1.005', 'KWD')).toBe(1005);
  });

  test.skip('records the FX rate source on cross-currency invoices', () => {
    // Blocked on PAY-398: FX provider not wired into the invoice model yet.
  });
});
