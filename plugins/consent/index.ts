/**
 * Consent compliance: who agreed to hear from the business, with the proof; keyword opt-outs and
 * opt-ins; blocks; the combined "may we message this phone" check; erasure. docs/compliance.md
 * explains the rules and what erasure keeps.
 */
import type { Plugin } from '../../core/index.js';
import { ClassifyAction } from './actions/classify.js';
import { GrantAction, RevokeAction } from './actions/consent-change.js';
import { consentConfigSchema, ConsentConfigToken, consentEnvironment, type ConsentConfig } from './config.js';
import { ConsentChangeModel, ConsentRecordModel, ErasureRecordModel } from './models/consent.js';
import { consentRequiredConfigSchema, ConsentRequiredPolicy } from './policies/consent-required.js';
import { NotBlockedPolicy } from './policies/not-blocked.js';
import { ComplianceRoutes } from './routes.js';
import { changeInputSchema, changeOutputSchema, changeViewSchema, classifyInputSchema, classifyOutputSchema, consentViewSchema } from './schemas.js';
import { ComplianceCheck } from './services/compliance-check.js';
import { ConsentLedger } from './services/consent-ledger.js';
import { Erasure } from './services/erasure.js';
import { INBOUND_MESSAGE_TRIGGER, keywordTriggerConfigSchema, KeywordTrigger } from './triggers/keyword.js';

const consent: Plugin<ConsentConfig> = {
  manifest: {
    id: 'consent',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'Consent compliance: opt-in/opt-out with proof, keywords, blocks, the combined send check and erasure',
    configSchema: consentConfigSchema,
    environment: consentEnvironment,
  },
  register(r) {
    r.bind(ConsentConfigToken).toConstantValue(r.config);
    r.bind(ConsentLedger).toSelf().inSingletonScope();
    r.bind(ComplianceCheck).toSelf().inSingletonScope();
    r.bind(Erasure).toSelf().inSingletonScope();
    r.model(ConsentChangeModel);
    r.model(ConsentRecordModel);
    r.model(ErasureRecordModel);
    r.permissions({ 'consent:read': 'agent', 'consent:write': 'agent', 'compliance:erase': 'admin' });

    r.trigger({
      type: 'keyword', version: 1, impl: KeywordTrigger, listensTo: INBOUND_MESSAGE_TRIGGER, config: keywordTriggerConfigSchema,
      summary: 'An inbound WhatsApp message that is an opt-out, opt-in or help keyword (the keyword workflows start only on their own kind)',
    });
    r.action({ type: 'revoke', version: 1, impl: RevokeAction, summary: 'Record an opt-out with its evidence (idempotent per step)', idempotent: true, input: changeInputSchema, output: changeOutputSchema });
    r.action({ type: 'grant', version: 1, impl: GrantAction, summary: 'Record an opt-in with its evidence (idempotent per step)', idempotent: true, input: changeInputSchema, output: changeOutputSchema });
    r.action({
      type: 'classify', version: 1, impl: ClassifyAction, summary: 'Classify an inbound text as opt-out, opt-in, help or none; leaves by that port',
      idempotent: true, input: classifyInputSchema, output: classifyOutputSchema, ports: ['opt-out', 'opt-in', 'help', 'none'],
    });
    r.policy({ type: 'required', version: 1, impl: ConsentRequiredPolicy, summary: 'A message category needs its consent: marketing needs opted_in, utility not opted_out', config: consentRequiredConfigSchema });
    r.policy({ type: 'not-blocked', version: 1, impl: NotBlockedPolicy, summary: 'Nothing goes to a blocked contact (manual, or automatic after repeated opt-outs)', config: { type: 'object', additionalProperties: false, properties: {} } });

    r.routes(ComplianceRoutes);
    r.topic({
      name: 'consent', permission: 'consent:read', summary: 'Consent changes, blocks and erasures as they are recorded',
      events: {
        'consent.changed': { ...consentViewSchema, required: [...consentViewSchema.required, 'changeId'], properties: { ...consentViewSchema.properties, changeId: changeViewSchema.properties.id } },
        'consent.blocked': { type: 'object', required: ['phone', 'until', 'reason', 'kind'] },
        'consent.erased': { type: 'object', required: ['subject', 'at'] },
      },
    });
  },
};

export default consent;
