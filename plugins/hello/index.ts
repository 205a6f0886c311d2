/**
 * The example plugin: small, but it uses every kind of contribution a plugin can make, so plugin
 * authors can read one folder and see the whole contract. It greets people by name.
 */
import type { Plugin } from '../../core/index.js';
import { GreetAction } from './actions/greet.js';
import { HelloLifecycle } from './hello-lifecycle.js';
import { GreetingModel } from './models/greeting.js';
import { NameAllowedPolicy } from './policies/name-allowed.js';
import { GreetingRoutes } from './routes.js';
import { GreetingTrigger, greetingEventSchema } from './triggers/greeting.js';
import { GreetingTallyJob } from './jobs/greeting-tally.js';
import { helloConfigSchema, HelloConfigToken, type HelloConfig } from './config.js';
import { Greeter } from './greeter.js';
import { greetingSchema } from './schemas.js';

const hello: Plugin<HelloConfig> = {
  manifest: {
    id: 'hello',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'Greets people by name: the worked example of every plugin contribution',
    configSchema: helloConfigSchema,
  },
  register(r) {
    r.bind(HelloConfigToken).toConstantValue(r.config);
    r.bind(Greeter).toSelf().inSingletonScope();
    r.model(GreetingModel);
    r.permissions({ 'greetings:read': 'viewer', 'greetings:write': 'agent' });
    r.trigger({
      type: 'greeting', version: 1, impl: GreetingTrigger, summary: 'Fires when someone is greeted over the API',
      config: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' } } },
      event: greetingEventSchema,
    });
    r.action({
      type: 'greet', version: 1, impl: GreetAction, summary: 'Stores a greeting for a name', idempotent: true,
      input: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } },
      output: greetingSchema,
    });
    r.policy({
      type: 'name-allowed', version: 1, impl: NameAllowedPolicy, summary: 'Denies greetings to names on the configured block list',
      config: { type: 'object', additionalProperties: false, properties: {} },
    });
    r.routes(GreetingRoutes);
    r.job({ name: 'hello.tally', handler: GreetingTallyJob, concurrency: 1 });
    r.topic({
      name: 'greetings', permission: 'greetings:read', summary: 'Each greeting as it is stored, and the periodic tally',
      events: { 'greeting.created': greetingSchema, 'greeting.tally': { type: 'object', required: ['total'], properties: { total: { type: 'integer' } } } },
    });
    r.lifecycle(HelloLifecycle);
  },
};

export default hello;
