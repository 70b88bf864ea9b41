/**
 * The import rules `npm run lint` enforces (dependency-cruiser). Layers, lowest first; each may import only the
 * layers below it (and itself):
 *   domain        pure: records, errors, request schemas, views (no Nest, no mongoose, no Redis, no express)
 *   config        the environment, read once
 *   persistence   mongoose schemas and repositories        infra   Redis, queues, the event log, limits, logs
 *   application   the api's half of a call, and what both roles share      worker   the worker's half (upstreams)
 *   http          controllers, guards, SSE (the api's edge)                jobs     BullMQ processors (the worker's)
 *   modules       Nest modules composing the rest; then the entrypoints (main-*.ts, cli/)
 */
const layers = {
  domain: ['config', 'persistence', 'infra', 'application', 'worker', 'http', 'jobs', 'modules', 'cli', 'main-'],
  config: ['persistence', 'infra', 'application', 'worker', 'http', 'jobs', 'modules', 'cli', 'main-'],
  persistence: ['infra', 'application', 'worker', 'http', 'jobs', 'modules', 'cli', 'main-'],
  infra: ['persistence', 'application', 'worker', 'http', 'jobs', 'modules', 'cli', 'main-'],
  application: ['worker', 'http', 'jobs', 'modules', 'cli', 'main-'],
  worker: ['http', 'jobs', 'modules', 'cli', 'main-'],
  // Controllers reach data through services only, and never the worker's code.
  http: ['persistence', 'worker', 'jobs', 'modules', 'cli', 'main-'],
  jobs: ['http', 'modules', 'cli', 'main-'],
  modules: ['cli', 'main-'],
};

const upward = Object.entries(layers).map(([layer, above]) => ({
  name: `layer-${layer}`,
  comment: `${layer}/ may not import ${above.join(', ')} (imports run downward only)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${above.join('|')})` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'No import cycles, between folders or files.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'api-never-loads-worker',
      comment: 'The api process never loads upstream or job-processing code.',
      severity: 'error',
      from: { path: '^src/main-api\\.ts$' },
      to: { path: '^src/(worker|jobs)/', reachable: true },
    },
    {
      name: 'mongoose-in-persistence-only',
      comment: 'Mongoose stays behind the repositories.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/persistence/' },
      to: { path: '(^|/)node_modules/(mongoose|@nestjs/mongoose)/' },
    },
    {
      name: 'express-in-http-only',
      comment: 'Only the HTTP edge touches express requests and responses.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/http/' },
      to: { path: '(^|/)node_modules/express/' },
    },
    {
      name: 'redis-in-infra-only',
      comment: 'Redis connections are made by infra/redis-connections with the role policy.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/infra/' },
      to: { path: '(^|/)node_modules/ioredis/' },
    },
    {
      name: 'no-dev-code-in-src',
      comment: 'The mock upstream and the local runner live in tools/ and never ship.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tools|test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    exclude: { path: '\\.spec\\.ts$' },
  },
};
