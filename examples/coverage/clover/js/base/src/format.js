'use strict';

function label(n) {
  return n === 1 ? 'item' : 'items';
}

function describe(n) {
  return `${n} ${label(n)}`;
}

module.exports = { label, describe };
