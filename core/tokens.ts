/** Injection tokens for the core services plugins may depend on. */
import type { ServiceIdentifier } from 'inversify';
import type { Logger } from 'winston';
import type { FlowgateConfig } from './config/config-schema.js';

export const ConfigToken: ServiceIdentifier<FlowgateConfig> = Symbol.for('flowgate.Config');
export const LoggerToken: ServiceIdentifier<Logger> = Symbol.for('flowgate.Logger');
export const WorkflowEventsToken: ServiceIdentifier<import('./plugin-api.js').WorkflowEvents> = Symbol.for('flowgate.WorkflowEvents');
/** The container itself, for core services that resolve plugin contributions by class. Never given to plugins. */
export const ContainerToken: ServiceIdentifier<import('inversify').Container> = Symbol.for('flowgate.Container');
