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
      required: ['host', 'port', 'bodyLimit', 'validateResponses', 'trustProxy', 'rateLimit'],
      properties: {
        host: { type: 'string', default: '127.0.0.1', description: 'Interface to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 3000, description: 'Port to listen on; 0 picks a free one' },
        bodyLimit: { type: 'string', pattern: '^\\d+(b|kb|mb)$', default: '100kb', description: 'Largest JSON body a route accepts unless the route sets its own' },
        validateResponses: { type: 'boolean', default: false, description: 'Check every 2xx response against its declared schema (tests)' },
        trustProxy: { type: 'boolean', default: false, description: 'Take the client address from X-Forwarded-For (only behind a proxy you run)' },
        rateLimit: {
          type: 'object',
          additionalProperties: false,
          required: ['windowSeconds', 'perIp', 'perCredential', 'exemptPaths'],
          default: {},
          description: 'Request limits counted in Redis across processes; past one the caller gets 429 with Retry-After',
          properties: {
            windowSeconds: { type: 'integer', minimum: 1, default: 60, description: 'Length of one counting window' },
            perIp: { type: 'integer', minimum: 0, default: 6000, description: 'Requests per window from one client address (0: unlimited)' },
            perCredential: { type: 'integer', minimum: 0, default: 6000, description: 'Requests per window by one user or API key (0: unlimited)' },
            exemptPaths: { type: 'array', items: { type: 'string', pattern: '^/' }, default: ['/api/health', '/api/ready', '/metrics'], description: 'Path prefixes never counted' },
          },
        },
      },
    },
    mongodb: {
      type: 'object',
      additionalProperties: false,
      required: ['uri', 'connectRetries'],
      properties: {
        uri: { type: 'string', pattern: '^mongodb(\\+srv)?://', 'x-secret': true, description: 'MongoDB (or FerretDB) connection string' },
        connectRetries: { type: 'integer', minimum: 0, default: 10, description: 'Connection attempts at boot after the first, with exponential backoff' },
      },
    },
    redis: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'keyPrefix'],
      properties: {
        url: { type: 'string', pattern: '^rediss?://', 'x-secret': true, description: 'Redis connection URL' },
        keyPrefix: { type: 'string', default: 'flowgate:', description: 'Prefix of every Redis key and channel, so several deployments can share one Redis' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: { level: { enum: ['error', 'warn', 'info', 'http', 'debug', 'silent'], default: 'info', description: 'Lowest level written; `http` adds one line per request' } },
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
      required: ['startTimeoutMs', 'stopTimeoutMs', 'shutdownTimeoutMs'],
      properties: {
        startTimeoutMs: { type: 'integer', minimum: 1, default: 15000, description: 'How long each plugin may take to start before boot fails with PLUGIN_START_TIMEOUT' },
        stopTimeoutMs: { type: 'integer', minimum: 1, default: 10000, description: 'How long each plugin may take to stop at shutdown' },
        shutdownTimeoutMs: { type: 'integer', minimum: 1, default: 60000, description: 'How long `flowgate start` may take to stop in all after SIGTERM/SIGINT before it exits anyway with code 1 (a second signal exits at once)' },
      },
    },
    scheduler: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'processEveryMs'],
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Run Agenda jobs in this process (false: only schedule them)' },
        processEveryMs: { type: 'integer', minimum: 50, default: 5000, description: 'How often Agenda polls for due jobs (Redis notifications pick up new jobs at once)' },
      },
    },
    workflows: {
      type: 'object',
      additionalProperties: false,
      required: ['dir', 'watch'],
      properties: {
        dir: { type: 'string', default: 'workflows', description: 'Folder of workflow JSON files, relative to the project' },
        watch: { type: 'boolean', default: true, description: 'Reload workflows when their files change' },
      },
    },
    engine: {
      type: 'object',
      additionalProperties: false,
      required: ['leaseMs', 'maxConcurrent', 'sweepEveryMs', 'executionTimeoutMs', 'dispatchGraceMs', 'checkpointEveryMs'],
      properties: {
        leaseMs: { type: 'integer', minimum: 500, default: 30000, description: 'How long an execution stays claimed by a process without a heartbeat' },
        maxConcurrent: { type: 'integer', minimum: 1, default: 64, description: 'Executions one process runs at once; the rest wait, queued' },
        sweepEveryMs: { type: 'integer', minimum: 100, default: 5000, description: 'How often a process looks for expired leases, due executions and undispatched events' },
        executionTimeoutMs: { type: 'integer', minimum: 1000, default: 86400000, description: 'Default limit for one execution, waiting included (a workflow can set its own)' },
        dispatchGraceMs: { type: 'integer', minimum: 100, default: 2000, description: 'Age after which an event no process dispatched is dispatched by the sweeper' },
        checkpointEveryMs: { type: 'integer', minimum: 0, default: 2000, description: 'Longest a running execution goes without saving its progress while its steps are idempotent (0: save after every step)' },
      },
    },
    realtime: {
      type: 'object',
      additionalProperties: false,
      required: ['corsOrigin', 'flushIntervalMs', 'revalidateEveryMs', 'revalidateGraceMs'],
      properties: {
        corsOrigin: { type: 'array', items: { type: 'string' }, default: [], description: 'Origins allowed to open Socket.IO connections from a browser' },
        flushIntervalMs: {
          type: 'integer', minimum: 0, maximum: 1000, default: 0,
          description: 'Events published this soon after the last flush wait and go out together: fewer, larger writes to each client on a busy server (0: each at once; see docs/performance.md)',
        },
        revalidateEveryMs: { type: 'integer', minimum: 100, default: 5000, description: 'How often the credentials of each open socket are checked again (a revoked one is disconnected)' },
        revalidateGraceMs: {
          type: 'integer', minimum: 0, default: 10000,
          description: 'How long a socket stays open while its credentials cannot be checked (the database unreachable); then it is disconnected',
        },
      },
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
