// jest-junit calls this once per test file and writes what it returns as
// <testsuite><properties>; a suite-level control applies to every test in it.
const path = require('path');

module.exports = (suite) => {
  const props = { service: 'payments-gateway' };
  if (path.basename(suite.testFilePath) === 'session.test.js') {
    props.tags = 'CC6.1';
  }
  return props;
};
