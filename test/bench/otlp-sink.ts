/**
 * Where the traced gateway variant exports its spans: an OTLP/HTTP endpoint that takes every export and
 * answers success, counting requests and bytes (GET /stats), so tracing's cost in the service is
 * measured, not a collector's. Run as its own process by the benchmark.
 */
import { createServer } from 'node:http';

const port = Number(process.env.OTLP_SINK_PORT ?? 4318);
const received = { exports: 0, bytes: 0 };

createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
    return;
  }
  request.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
  request.on('end', () => {
    received.exports += 1;
    // An empty ExportTraceServiceResponse: zero bytes in protobuf, {} in JSON.
    const json = String(request.headers['content-type']).includes('json');
    response
      .writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
      .end(json ? '{}' : undefined);
  });
}).listen(port, '127.0.0.1', () => console.log(`OTLP sink on ${port}`));
