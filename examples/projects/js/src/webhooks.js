const crypto = require('crypto');

const MAX_AGE_S = 5 * 60;

function signature(secret, timestamp, body) {
  return crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

function acceptDelivery(secret, { timestamp, body, sig }, nowS) {
  if (nowS - timestamp > MAX_AGE_S) return false;
  return signature(secret, timestamp, body) === sig;
}

module.exports = { signature, acceptDelivery };
