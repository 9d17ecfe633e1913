/**
 * The floor: the least a proxy in this position can cost. Fastify + undici, keep-alive, the body
 * passed through untouched (streams piped). Run as its own process by the benchmark.
 */
import Fastify from 'fastify';
import { Agent, request } from 'undici';

const upstream = process.env.FLOOR_UPSTREAM ?? 'http://127.0.0.1:4000';
const port = Number(process.env.FLOOR_PORT ?? 8090);
const agent = new Agent({ keepAliveTimeout: 30_000, connections: null });
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });

app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

app.get('/health', async () => ({ status: 'ok' }));

app.post('/*', async (req, reply) => {
  const response = await request(`${upstream}${req.url}`, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'content-type': 'application/json',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    },
    body: req.body as Buffer,
  });
  void reply
    .status(response.statusCode)
    .header('content-type', String(response.headers['content-type'] ?? 'application/json'));
  return reply.send(response.body);
});

app.listen({ port, host: '127.0.0.1' }).then(
  () => console.log(`floor proxy on ${port} -> ${upstream}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
