'use strict';
const assert = require('node:assert');
const { add, divide } = require('./src/calc');
assert.strictEqual(add(1, 2), 3);
assert.strictEqual(divide(4, 2), 2);
console.log('ok');
