// The baseline for bench:api: a bare fastify route answering the same JSON as send/sms,
// with no auth, validation, metering or storage.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/numbers/:id/send/sms', async (request) => {
  const body = request.body as { to: string; body: string };
  return { messageId: 'msg_00000000-0000-0000-0000-000000000000', status: 'queued', to: body.to, body: body.body };
});
const address = await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.stderr.write(`listening on ${address}\n`);
