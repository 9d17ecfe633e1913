/**
 * The floor: the least a proxy in this position can cost. Fastify + undici, keep-alive, the body
 * passed through untouched (streams piped). Run as its own process by the benchmark.
 */
import Fastify from 'fastify';
import { forward, UPSTREAM } from './passthrough';

const port = Number(process.env.FLOOR_PORT ?? 8090);
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });

// The body passed through untouched.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

app.get('/health', async () => ({ status: 'ok' }));

app.post('/*', async (req, reply) => reply.send(await forward(req, reply)));

app.listen({ port, host: '127.0.0.1' }).then(
  () => console.log(`floor proxy on ${port} -> ${UPSTREAM}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
