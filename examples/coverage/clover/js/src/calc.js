'use strict';

function add(a, b) {
  return a + b;
}

function divide(a, b) {
  if (b === 0) {
    throw new Error('b must not be 0');
  }
  return a / b;
}

function clamp(x, lo, hi) {
  if (x < lo) {
    return lo;
  }
  return x > hi ? hi : x;
}

function sum(n) {
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += i;
  }
  return total;
}

module.exports = { add, divide, clamp, sum };
