#!/usr/bin/env node
// A minimal AgentPhone webhook receiver: plain Node (20+), no dependencies.
//
//   WEBHOOK_SECRET=<the secret `agentphone webhook set` printed> node examples/webhook-agent.mjs
//
// It listens on http://127.0.0.1:8080/webhook (PORT and HOST change that; PORT=0 picks a free
// port), checks both signatures AgentPhone sends with every event, and answers an inbound
// message inline with a reply, which the gateway texts back to the sender. Every other event
// (message.status, call.*, webhook.test...) is acknowledged with {"action":"ignore"}.
// See docs/webhooks.md for the events and the signing scheme.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const SECRET = process.env.WEBHOOK_SECRET;
const PORT = Number(process.env.PORT ?? 8080);
const HOST = process.env.HOST ?? '127.0.0.1';
const MAX_BODY_BYTES = 1024 * 1024;

if (!SECRET) {
  console.error('Set WEBHOOK_SECRET to the number\'s webhook secret (agentphone webhook show --number ID).');
  process.exit(2);
}

/** Hex HMAC-SHA256 of `data` with the webhook secret. */
const hmacHex = (data) => createHmac('sha256', SECRET).update(data).digest('hex');

/** Constant-time comparison of two hex digests. */
function sameHex(given, expected) {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/i.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'));
}

/**
 * Both signatures: the X-AgentPhone-Signature header is the HMAC of the raw body; the body's
 * `signature` field is the HMAC of the JSON of the payload without that field.
 */
function verify(rawBody, headerSignature) {
  if (!sameHex(headerSignature, hmacHex(rawBody))) return null;
  let event;
  try {
    event = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return null;
  const { signature, ...payload } = event;
  return sameHex(signature, hmacHex(JSON.stringify(payload))) ? payload : null;
}

/** What the agent says back. Replace with your model call. */
function answer(event) {
  if (event.event === 'message.inbound') return { action: 'respond', reply: `You said: ${event.body}` };
  return { action: 'ignore' };
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/webhook') return send(res, 404, { error: 'Not Found', message: 'POST /webhook' });
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      send(res, 413, { error: 'Payload Too Large', message: `at most ${MAX_BODY_BYTES} bytes` });
      req.destroy();
    } else chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const event = verify(Buffer.concat(chunks), req.headers['x-agentphone-signature']);
    if (!event) return send(res, 401, { error: 'Unauthorized', message: 'Invalid signature' });
    console.log(`${event.event} ${req.headers['x-agentphone-delivery'] ?? ''}`);
    send(res, 200, answer(event));
  });
});
server.requestTimeout = 15_000;
server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`webhook agent listening on http://${HOST}:${port}/webhook`);
});
