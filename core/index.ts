/**
 * The public API for plugin authors: everything a plugin may import from the core.
 */
export * from './plugin-api.js';
export { CoreError, HttpError, StepError, StepDeferral, notFound, conflict } from './errors.js';
export { WorkflowEngine } from './engine/workflow-engine.js';
export { PolicyEvaluator, type PolicyOutcome } from './engine/policy-evaluator.js';
export { EngineClock } from './engine/clock.js';
export { redact } from './logging/logger.js';
export { defineModel, MongoConnection } from './storage/mongo.js';
export { RedisConnection, type RedisLock } from './storage/redis.js';
export { Scheduler, type EveryOptions, type ScheduledJob } from './scheduling/scheduler.js';
export { Realtime } from './realtime/realtime.js';
export { CoreEvents, type CoreEventMap } from './events/core-events.js';
export { Metrics } from './observability/metrics.js';
export { PermissionCatalog, roleAtLeast } from './security/roles.js';
export { ConfigToken, LoggerToken, WorkflowEventsToken } from './tokens.js';
export { commonSchemas } from './http/route-mounter.js';
export { injectable, inject, multiInject, optional } from 'inversify';
export { Maintenance, type MaintenanceState } from './maintenance.js';
export { coreVersion, projectRoot } from './paths.js';
export { createAjv, describeErrors } from './schema/ajv.js';
export { ProgressBar, type ProgressBarOptions } from './cli/progress-bar.js';
// Models are declared with the core's own mongoose, so a plugin needs no mongoose of its own.
export { Schema, type Model } from 'mongoose';
