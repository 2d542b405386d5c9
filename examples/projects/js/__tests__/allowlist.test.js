const { adminAllowed } = require('../src/allowlist');

const OFFICE = ['10.20.0.0/16', '192.0.2.10/32'];

describe('admin ip allowlist', () => {
  test('@cc6-6 blocks admin routes from outside the allowlist', () => {
    expect(adminAllowed('198.51.100.7', OFFICE)).toBe(false);
  });

  test('@cc6-6 allows the office range', () => {
    expect(adminAllowed('10.20.33.4', OFFICE)).toBe(true);
    expect(adminAllowed('192.0.2.10', OFFICE)).toBe(true);
  });
});
