import { upstreamUrl } from './passthrough';

describe('upstreamUrl', () => {
  const base = 'http://gateway:4000/v1';

  it('maps /v1/... under the upstream base, query included', () => {
    expect(upstreamUrl(base, '/v1/chat/completions?x=1')).toBe('http://gateway:4000/v1/chat/completions?x=1');
    expect(upstreamUrl('http://gateway:4000/openai/v1/', '/v1/models')).toBe('http://gateway:4000/openai/v1/models');
  });

  it('refuses paths that dot segments would take out of the base path, encoded or not', () => {
    expect(upstreamUrl(base, '/v1/../key/generate')).toBeNull();
    expect(upstreamUrl(base, '/v1/%2e%2e/key/generate')).toBeNull();
    expect(upstreamUrl(base, '/v1/models/../../admin')).toBeNull();
    expect(upstreamUrl(base, '/v1/..%2fadmin')).toBeNull();
    expect(upstreamUrl(base, '/v1/..%5Cadmin')).toBeNull();
    expect(upstreamUrl(base, '/v1//evil.example/x')).toBe('http://gateway:4000/v1//evil.example/x');
  });
});
