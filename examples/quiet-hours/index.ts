/**
 * An external plugin: it lives outside `plugins/`, imports only the SDK (`flowgate/sdk`) and is
 * loaded by path from config. Quiet hours hold back messages at night in the contact's time zone;
 * a webhook action tells another system about it.
 */
import type { Plugin } from 'flowgate/sdk';
import { NotifyAction, notifyInputSchema, notifyOutputSchema } from './actions/notify.js';
import { quietHoursConfigSchema, QuietHoursConfigToken, type QuietHoursConfig } from './config.js';
import { DeferralLog, QUIET_HOURS_TOPIC } from './deferral-log.js';
import { PRUNE_JOB, PruneDeferralsJob } from './jobs/prune.js';
import { assertTimeZone } from './local-time.js';
import { DeferralModel } from './models/deferral.js';
import { allowedConfigSchema, QuietHoursPolicy } from './policies/allowed.js';
import { QuietHours } from './quiet-hours.js';
import { QuietHoursLifecycle } from './quiet-hours-lifecycle.js';
import { QuietHoursRoutes } from './routes.js';
import { deferralSchema } from './schemas.js';
import { DeferredTrigger } from './triggers/deferred.js';

const quietHours: Plugin<QuietHoursConfig> = {
  manifest: {
    id: 'quiet-hours',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'Defers messages during the night in the contact\'s time zone, and notifies a webhook',
    configSchema: quietHoursConfigSchema,
    environment: { QUIET_HOURS_NOTIFY_SECRET: 'notifySecret', QUIET_HOURS_NOTIFY_URL: 'notifyUrl' },
  },
  register(r) {
    // A misspelt zone must stop boot (PLUGIN_REGISTER_FAILED names this plugin), not defer nothing at night.
    for (const zone of [r.config.defaultTimeZone, ...Object.values(r.config.timeZones as Record<string, string>)]) assertTimeZone(zone);
    r.bind(QuietHoursConfigToken).toConstantValue(r.config);
    r.bind(QuietHours).toSelf().inSingletonScope();
    r.bind(DeferralLog).toSelf().inSingletonScope();
    r.model(DeferralModel);
    // Deferral records hold phone numbers: agents and above, as for messages.
    r.permissions({ 'quiet-hours:read': 'agent' });
    r.policy({ type: 'allowed', version: 1, impl: QuietHoursPolicy, summary: 'Defers a step to a phone (input.to) while it is night in the contact\'s time zone', config: allowedConfigSchema });
    r.action({
      type: 'notify', version: 1, impl: NotifyAction, summary: 'POSTs a signed JSON notification to a webhook', idempotent: false,
      input: notifyInputSchema, output: notifyOutputSchema,
    });
    r.trigger({
      type: 'deferred', version: 1, impl: DeferredTrigger, summary: 'A step was held back by quiet hours',
      config: { type: 'object', additionalProperties: false, properties: {} }, event: deferralSchema,
    });
    r.routes(QuietHoursRoutes);
    r.job({ name: PRUNE_JOB, handler: PruneDeferralsJob, concurrency: 1 });
    r.topic({
      name: QUIET_HOURS_TOPIC, permission: 'quiet-hours:read', summary: 'Each step quiet hours hold back, as it is deferred',
      events: { 'quiet-hours.deferred': deferralSchema },
    });
    r.lifecycle(QuietHoursLifecycle);
  },
};

export default quietHours;
