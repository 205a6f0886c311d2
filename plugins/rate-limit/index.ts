/**
 * Rate limiting for WhatsApp sends, in Redis and shared by every process: Meta's messaging limit
 * per business portfolio, throughput per sender number, hourly and daily caps, the per-recipient
 * pair limit, pause/resume, and backoff after provider rate-limit errors. Sends over a limit are
 * deferred by `rate.limit@1`, never dropped. docs/rate-limits.md explains the rules.
 */
import type { Plugin } from '../../core/index.js';
import { ProviderRefusalListenerToken } from '../whatsapp/public.js';
import { rateConfigSchema, RateConfigToken, type RateConfig } from './config.js';
import { RateLimitPolicy } from './policies/rate-limit.js';
import { RateLimitRoutes } from './routes.js';
import { ProviderBackoff } from './services/provider-backoff.js';
import { RATE_TOPIC, RateAnnouncer } from './services/rate-announcer.js';
import { RateLimiter } from './services/rate-limiter.js';
import { SenderLimits } from './services/sender-limits.js';

const at = { type: 'string', format: 'date-time' } as const;

const rate: Plugin<RateConfig> = {
  manifest: {
    id: 'rate',
    version: '1.0.0',
    core: '^0.1.0',
    dependsOn: ['whatsapp'],
    description: 'WhatsApp rate limits in Redis: messaging tier per portfolio, throughput, hourly/daily caps, pair limit, pause and provider backoff',
    configSchema: rateConfigSchema,
  },
  register(r) {
    r.bind(RateConfigToken).toConstantValue(r.config);
    r.bind(SenderLimits).toSelf().inSingletonScope();
    r.bind(RateLimiter).toSelf().inSingletonScope();
    r.bind(RateAnnouncer).toSelf().inSingletonScope();
    r.bind(ProviderBackoff).toSelf().inSingletonScope();
    // Bound at registration so that refusals during other plugins' start-up already back off.
    r.bind(ProviderRefusalListenerToken).toService(ProviderBackoff);
    r.permissions({ 'rate-limits:read': 'analyst', 'rate-limits:write': 'admin' });
    r.policy({
      type: 'limit', version: 1, impl: RateLimitPolicy, config: { type: 'object', additionalProperties: false, properties: {} },
      summary: 'Defers a send while its sender is paused or backing off, or a limit (throughput, hourly/daily cap, pair, messaging tier) is used up',
    });
    r.routes(RateLimitRoutes);
    r.topic({
      name: RATE_TOPIC, permission: 'rate-limits:read', summary: 'Warnings as a cap passes its threshold (once per window), backoffs, pauses, resumes, resets and changes',
      events: {
        'rate.warning': { type: 'object', required: ['phoneNumberId', 'portfolio', 'limit', 'used', 'cap', 'threshold', 'at'], properties: { limit: { enum: ['hourly', 'daily', 'messaging'] }, at } },
        'rate.backoff': { type: 'object', required: ['phoneNumberId', 'scope', 'until', 'errorCode'], properties: { scope: { enum: ['sender', 'pair'] }, until: at } },
        'rate.paused': { type: 'object', required: ['phoneNumberId', 'by', 'at'] },
        'rate.resumed': { type: 'object', required: ['phoneNumberId', 'by', 'at'] },
        'rate.reset': { type: 'object', required: ['phoneNumberId', 'by', 'at'] },
        'rate.updated': { type: 'object', required: ['phoneNumberId', 'by', 'at'] },
      },
    });
  },
};

export default rate;
