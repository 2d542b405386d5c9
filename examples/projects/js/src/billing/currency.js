const MINOR_DIGITS = { USD: 2, EUR: 2, JPY: 0, KWD: 3 };

function toMinor(amount, currency) {
  const digits = MINOR_DIGITS[currency];
  if (digits === undefined) throw new Error(`unsupported currency ${currency}`);
  return Math.round(Number(amount) * 10 ** digits);
}

module.exports = { toMinor };
