// IPv4 CIDR allowlist guarding the admin routes.
function toInt(ip) {
  return ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

function inCidr(ip, cidr) {
  const [base, bits] = cidr.split('/');
  const mask = bits === '0' ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}

function adminAllowed(ip, allowlist) {
  return allowlist.some((cidr) => inCidr(ip, cidr));
}

module.exports = { adminAllowed };
