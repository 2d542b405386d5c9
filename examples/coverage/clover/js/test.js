'use strict';
const assert = require('node:assert');
const { add, divide, clamp } = require('./src/calc');
const { describe } = require('./src/format');
assert.strictEqual(add(1, 2), 3);
assert.strictEqual(divide(4, 2), 2);
assert.strictEqual(clamp(5, 0, 3), 3);
assert.strictEqual(describe(2), '2 items');
console.log('ok');
