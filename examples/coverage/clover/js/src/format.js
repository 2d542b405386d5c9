'use strict';

function label(n) {
  return n === 1 ? 'item' : 'items';
}

function describe(n, unit) {
  const u = unit || label(n);
  if (n < 0) {
    return 'none';
  }
  return `${n} ${u}`;
}

module.exports = { label, describe };
