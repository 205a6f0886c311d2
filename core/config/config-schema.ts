/**
 * The shape of Flowgate's configuration: one schema that validates `config/*.json` plus the
 * environment at boot and gives the TypeScript type.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['http', 'mongodb', 'redis', 'log', 'plugins', 'pluginSettings', 'lifecycle', 'scheduler', 'workflows', 'realtime', 'engine'],
  properties: {
    $schema: { type: 'string' },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'bodyLimit', 'validateResponses', 'trustProxy'],
      properties: {
        host: { type: 'string', default: '127.0.0.1', description: 'Interface to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
        bodyLimit: { type: 'string', pattern: '^\\d+(b|kb|mb)$', default: '100kb' },
        validateResponses: { type: 'boolean', default: false, description: 'Check every 2xx response against its declared schema (tests)' },
        trustProxy: { type: 'boolean', default: false },
      },
    },
    mongodb: {
      type: 'object',
      additionalProperties: false,
      required: ['uri', 'connectRetries'],
      properties: {
        uri: { type: 'string', pattern: '^mongodb(\\+srv)?://', 'x-secret': true },
        connectRetries: { type: 'integer', minimum: 0, default: 10 },
      },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'keyPrefix'],
      properties: {
        url: { type: 'string', pattern: '^rediss?://', 'x-secret': true },
        keyPrefix: { type: 'string', default: 'flowgate:' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: { level: { enum: ['error', 'warn', 'info', 'http', 'debug', 'silent'], default: 'info' } },
    },
    plugins: {
      type: 'array',
      description: 'Plugins to load, in any order: built-ins by name, others by package name or path',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            additionalProperties: false,
            required: ['from'],
            properties: { from: { type: 'string', minLength: 1 }, optional: { type: 'boolean' } },
          },
        ],
      },
    },
    pluginSettings: { type: 'object', description: 'Per-plugin settings keyed by plugin id', additionalProperties: { type: 'object' }, default: {} },
    lifecycle: {
      type: 'object',
      additionalProperties: false,
      required: ['startTimeoutMs', 'stopTimeoutMs'],
      properties: {
        startTimeoutMs: { type: 'integer', minimum: 1, default: 15000 },
        stopTimeoutMs: { type: 'integer', minimum: 1, default: 10000 },
      },
    },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'processEveryMs'],
      properties: {
        enabled: { type: 'boolean', default: true },
        processEveryMs: { type: 'integer', minimum: 50, default: 5000 },
      },
    },
    workflows: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'watch'],
      properties: {
        dir: { type: 'string', default: 'workflows' },
        watch: { type: 'boolean', default: true },
      },
    },
    engine: {
      type: 'object',
      additionalProperties: false,
      required: ['leaseMs', 'maxConcurrent', 'sweepEveryMs', 'executionTimeoutMs', 'dispatchGraceMs'],
      properties: {
        leaseMs: { type: 'integer', minimum: 500, default: 30000, description: 'How long an execution stays claimed by a process without a heartbeat' },
        maxConcurrent: { type: 'integer', minimum: 1, default: 64, description: 'Executions one process runs at once; the rest wait, queued' },
        sweepEveryMs: { type: 'integer', minimum: 100, default: 5000, description: 'How often a process looks for expired leases, due executions and undispatched events' },
        executionTimeoutMs: { type: 'integer', minimum: 1000, default: 86400000, description: 'Default limit for one execution, waiting included (a workflow can set its own)' },
        dispatchGraceMs: { type: 'integer', minimum: 100, default: 2000, description: 'Age after which an event no process dispatched is dispatched by the sweeper' },
      },
    },
    realtime: {
      type: 'object',
      additionalProperties: false,
      required: ['corsOrigin'],
      properties: { corsOrigin: { type: 'array', items: { type: 'string' }, default: [] } },
    },
  },
} as const;

export type FlowgateConfig = FromSchema<typeof configSchema>;

/**
 * Environment variables and the config keys they set. Secrets come only from here. Any key can
 * also be set as `FLOWGATE__a__b=value` (JSON values parsed when they parse).
 */
export const environmentMapping: Record<string, string> = {
  MONGODB_URI: 'mongodb.uri',
  REDIS_URL: 'redis.url',
  PORT: 'http.port',
  HOST: 'http.host',
  LOG_LEVEL: 'log.level',
  WORKFLOWS_DIR: 'workflows.dir',
};
