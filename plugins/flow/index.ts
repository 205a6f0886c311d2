/**
 * Built-in flow control: internal events between workflows and plugins, manual starts, and the
 * small actions every workflow needs (emit an event, wait, log).
 */
import type { Plugin } from '../../core/index.js';
import { DelayAction, delayInputSchema } from './actions/delay.js';
import { EmitAction, emitInputSchema } from './actions/emit.js';
import { LogAction, logInputSchema } from './actions/log.js';
import { EventTrigger, eventPayloadSchema } from './triggers/event.js';
import { ManualTrigger } from './triggers/manual.js';

const flow: Plugin = {
  manifest: { id: 'flow', version: '1.0.0', core: '^0.1.0', description: 'Internal events, manual starts, delays and logging' },
  register(r) {
    r.trigger({
      type: 'event', version: 1, impl: EventTrigger, summary: 'An internal event with the configured name (emitted by a plugin or by flow.emit)',
      config: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$' } } },
      event: eventPayloadSchema,
    });
    r.trigger({
      type: 'manual', version: 1, impl: ManualTrigger, summary: 'Started by hand with POST /api/workflows/:id/run and any payload',
      config: { type: 'object', additionalProperties: false, properties: {} },
      event: { type: 'object' },
    });
    r.action({
      type: 'emit', version: 1, impl: EmitAction, summary: 'Emits an internal event that flow.event triggers receive', idempotent: true,
      input: emitInputSchema, output: { type: 'object', required: ['eventId', 'duplicate'], properties: { eventId: { type: 'string' }, duplicate: { type: 'boolean' } } },
    });
    r.action({
      type: 'delay', version: 1, impl: DelayAction, summary: 'Waits (the execution is parked, not a sleeping process)', idempotent: true,
      input: delayInputSchema, output: { type: 'object', required: ['resumedAt'], properties: { resumedAt: { type: 'string' } } },
    });
    r.action({
      type: 'log', version: 1, impl: LogAction, summary: 'Writes a line to the server log with the execution id', idempotent: true,
      input: logInputSchema, output: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
    });
  },
};
export default flow;
