import Fastify, { FastifyInstance } from 'fastify';
import { AddressInfo } from 'node:net';
import { Observable, Subject } from 'rxjs';
import { request } from 'undici';
import { StoredResponse } from '@app/session-store';
import { renderTurn } from './response-render';
import { TurnEvent } from './turn';

function delta(sequence: number, text: string): TurnEvent {
  return {
    event: {
      type: 'response.output_text.delta',
      sequence_number: sequence,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: text,
    },
  };
}

/** Counts subscriptions and their ends, as the turn's tee and upstream call see them. */
class WatchedEvents {
  readonly feed = new Subject<TurnEvent>();
  subscribed = 0;
  unsubscribed = 0;
  readonly events = new Observable<TurnEvent>((subscriber) => {
    this.subscribed += 1;
    const inner = this.feed.subscribe(subscriber);
    return () => {
      this.unsubscribed += 1;
      inner.unsubscribe();
    };
  });
}

/** A Fastify server whose one route renders a streamed turn of `watched`, with this session id. */
async function serving(watched: WatchedEvents, sessionId: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ forceCloseConnections: true });
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.header('x-request-id', 'req-1');
    done();
  });
  app.post('/', (_request, reply) => {
    const draft = { historySource: 'none' } as StoredResponse;
    renderTurn({ kind: 'stream', draft, events: watched.events, sessionId }, reply);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/` };
}

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** POSTs, and once the turn is subscribed sends `first` (headers go out with the first write, as Node does). */
async function opened(url: string, watched: WatchedEvents, first: TurnEvent) {
  const pending = request(url, { method: 'POST' });
  await until(() => watched.subscribed === 1);
  watched.feed.next(first);
  return pending;
}

describe('renderTurn, for a stream', () => {
  let server: { app: FastifyInstance; url: string } | undefined;
  afterEach(async () => {
    await server?.app.close();
    server = undefined;
  });

  it('sends the headers set before it, then each event as it comes, and ends with the turn', async () => {
    const watched = new WatchedEvents();
    server = await serving(watched, 'sess-1');
    const response = await opened(server.url, watched, delta(0, 'Hel'));
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': 'req-1',
      'x-session-id': 'sess-1',
      'x-session-cache': 'none',
    });
    watched.feed.next(delta(1, 'lo'));
    watched.feed.complete();
    const body = await response.body.text();
    expect(body.split('\n\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^event: response.output_text.delta\ndata: \{.*"delta":"Hel"/),
      expect.stringMatching(/^event: response.output_text.delta\ndata: \{.*"delta":"lo"/),
    ]);
  });

  it('ends a stream that fails with an error event numbered after the last one sent', async () => {
    const watched = new WatchedEvents();
    server = await serving(watched, 'sess-1');
    const response = await opened(server.url, watched, delta(0, 'Hel'));
    watched.feed.error(new Error('upstream gone'));
    const events = (await response.body.text()).split('\n\n').filter(Boolean);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatch(/^event: error\ndata: /);
    expect(JSON.parse(events[1].split('data: ')[1])).toEqual({
      type: 'error',
      sequence_number: 1,
      code: 'server_error',
      message: 'The server had an error while streaming the response.',
      param: null,
    });
  });

  it('lets the turn go (unsubscribes) when the client goes away mid-stream', async () => {
    const watched = new WatchedEvents();
    server = await serving(watched, 'sess-1');
    const response = await opened(server.url, watched, delta(0, 'Hel'));
    response.body.destroy();
    await until(() => watched.unsubscribed === 1);
    expect(watched.subscribed).toBe(1);
  });

  it('closes the connection, and lets the turn go, when Node refuses a header instead of leaving the client waiting', async () => {
    const watched = new WatchedEvents();
    server = await serving(watched, 'bad\nsession');
    const outcome = await request(server.url, { method: 'POST', headersTimeout: 3_000 }).then(
      (response) => `answered ${response.statusCode}`,
      (error: Error & { code?: string }) => error.code ?? error.message,
    );
    expect(outcome).toBe('UND_ERR_SOCKET');
    expect([watched.subscribed, watched.unsubscribed]).toEqual([1, 1]);
  });
});
