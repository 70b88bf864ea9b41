import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUpstreams } from './upstreams';

const parse = (env: Record<string, string>, role = 'worker') => {
  const problems: string[] = [];
  const routes = parseUpstreams(env, role, problems);
  return { routes, problems };
};

describe('UPSTREAMS', () => {
  it('reads routes in order and appends UPSTREAM_BASE_URL as the default route serving every model', () => {
    const { routes, problems } = parse({
      UPSTREAMS: JSON.stringify([
        { name: 'vllm', base_url: 'http://gpu:8000/v1', protocol: 'chat', models: ['llama-*'], max_concurrency: 4 },
        { name: 'azure', base_url: 'https://az.example/v1', models: ['gpt-4o'], rpm: 600, api_key_env: 'AZ_KEY' },
      ]),
      AZ_KEY: 'az-secret',
      UPSTREAM_BASE_URL: 'https://api.openai.com/v1',
      UPSTREAM_API_KEY: 'sk-up',
    });
    expect(problems).toEqual([]);
    expect(routes.map((r) => [r.name, r.protocol, r.models, r.maxConcurrency, r.rpm, r.apiKey])).toEqual([
      ['vllm', 'chat', ['llama-*'], 4, null, undefined],
      ['azure', 'responses', ['gpt-4o'], null, 600, 'az-secret'],
      ['default', 'responses', ['*'], null, null, 'sk-up'],
    ]);
  });

  it('reads UPSTREAMS_FILE as YAML or JSON by its extension', () => {
    const dir = mkdtempSync(join(tmpdir(), 'upstreams-'));
    const yaml = join(dir, 'routes.yaml');
    writeFileSync(yaml, '- name: local\n  base_url: http://127.0.0.1:8000/v1\n  protocol: chat\n  models: ["*"]\n');
    expect(parse({ UPSTREAMS_FILE: yaml }).routes.map((r) => r.name)).toEqual(['local']);
    const json = join(dir, 'routes.json');
    writeFileSync(json, JSON.stringify([{ name: 'j', base_url: 'http://127.0.0.1:1/v1', models: ['m'] }]));
    expect(parse({ UPSTREAMS_FILE: json }).routes.map((r) => r.name)).toEqual(['j']);
    expect(parse({ UPSTREAMS_FILE: join(dir, 'missing.yaml') }, 'api').problems).toEqual([
      expect.stringMatching(/^UPSTREAMS_FILE .* cannot be read \(ENOENT\)$/),
    ]);
  });

  it('reports every bad field with the entry it concerns, and never echoes a key', () => {
    const { routes, problems } = parse({
      UPSTREAMS: JSON.stringify([
        { name: 'Bad Name', base_url: 'ftp://x', models: [], protocol: 'grpc', max_concurrency: 0, colour: 'red' },
        { name: 'ok', base_url: 'https://user:pw@host/v1', models: ['a*b'] },
        { name: 'k', base_url: 'http://h/v1', models: ['*'], api_key: 'sk-inline-secret', api_key_env: 'X' },
        { name: 'h', base_url: 'http://h/v1', models: ['*'], headers: { Authorization: 'x' } },
        { name: 'e', base_url: 'http://h/v1', models: ['*'], api_key_env: 'NOT_SET' },
      ]),
    });
    expect(routes).toEqual([]);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^UPSTREAMS\[0\]\.name /),
        expect.stringMatching(/^UPSTREAMS\[0\]\.base_url /),
        expect.stringMatching(/^UPSTREAMS\[0\]\.protocol /),
        expect.stringMatching(/^UPSTREAMS\[0\]\.models /),
        expect.stringMatching(/^UPSTREAMS\[0\]\.max_concurrency /),
        'UPSTREAMS[0].colour is not a route field',
        expect.stringMatching(/^UPSTREAMS\[1\]\.base_url /), // credentials in the URL
        expect.stringMatching(/^UPSTREAMS\[1\]\.models /), // '*' only at the end
        'UPSTREAMS[2]: give api_key or api_key_env, not both',
        expect.stringMatching(/^UPSTREAMS\[3\]\.headers may not set Authorization/),
        'UPSTREAMS[4].api_key_env names NOT_SET, which is not set',
      ]),
    );
    expect(problems.join('\n')).not.toContain('sk-inline-secret');
  });

  it('lets the api route without upstream keys, and asks the worker for at least one route', () => {
    const routes = JSON.stringify([{ name: 'e', base_url: 'http://h/v1', models: ['*'], api_key_env: 'NOT_SET' }]);
    expect(parse({ UPSTREAMS: routes }, 'api').problems).toEqual([]);
    expect(parse({}, 'api').problems).toEqual([]);
    expect(parse({}, 'worker').problems).toEqual([expect.stringMatching(/^UPSTREAM_BASE_URL is required/)]);
  });

  it('refuses duplicate names, a route named default beside UPSTREAM_BASE_URL, and both sources at once', () => {
    const two = JSON.stringify([
      { name: 'a', base_url: 'http://h/v1', models: ['*'] },
      { name: 'a', base_url: 'http://h/v1', models: ['*'] },
    ]);
    expect(parse({ UPSTREAMS: two }).problems).toEqual(['UPSTREAMS[1].name "a" is used twice']);
    const def = JSON.stringify([{ name: 'default', base_url: 'http://h/v1', models: ['*'] }]);
    expect(parse({ UPSTREAMS: def, UPSTREAM_BASE_URL: 'http://x/v1' }).problems).toEqual([
      'UPSTREAMS may not name a route "default" when UPSTREAM_BASE_URL is set',
    ]);
    expect(parse({ UPSTREAMS: '[', UPSTREAMS_FILE: '/nope.yaml' }).problems).toContain(
      'UPSTREAMS and UPSTREAMS_FILE are both set: use one',
    );
    expect(parse({ UPSTREAMS: '{"name":"x"}' }, 'api').problems).toEqual([
      'UPSTREAMS must be an array of route objects',
    ]);
  });
});
