/**
 * The WhatsApp Cloud API channel: signed webhooks in, Graph API sends out, message and delivery
 * tracking, the 24-hour window policy, bulk and scheduled sends. Facts about the API come from
 * reference/whatsapp.md; docs/whatsapp.md explains how to connect a real number.
 */
import type { Plugin } from '../../core/index.js';
import { MarkReadAction } from './actions/mark-read.js';
import { OutboundStep } from './actions/outbound-step.js';
import { ReplyAction } from './actions/reply.js';
import { SendAction } from './actions/send.js';
import { whatsappConfigSchema, WhatsappConfigToken, whatsappEnvironment, type WhatsappConfig } from './config.js';
import { messageEventSchema, preferencesEventSchema, statusEventSchema, templateStatusEventSchema } from './events.js';
import { Senders } from './graph/senders.js';
import { PRUNE_UPDATES_JOB, PruneUpdatesJob } from './jobs/prune-updates.js';
import { SendStoredJob } from './jobs/send-stored.js';
import { CampaignModel } from './models/campaign.js';
import { ContactModel } from './models/contact.js';
import { MessageModel } from './models/message.js';
import { MessageKeyModel } from './models/message-key.js';
import { WebhookUpdateModel } from './models/webhook-update.js';
import { WindowPolicy } from './policies/window.js';
import { DeliveryRoutes } from './routes/delivery-routes.js';
import { MessagingRoutes } from './routes/messaging-routes.js';
import { WebhookRoutes } from './routes/webhook-routes.js';
import { markReadInputSchema, replyInputSchema, sendInputSchema, sendOutputSchema } from './schemas.js';
import { Campaigns } from './services/campaigns.js';
import { ContactDirectory } from './services/contact-directory.js';
import { DeliveryReports } from './services/delivery-reports.js';
import { DeliveryTimeline } from './services/delivery-timeline.js';
import { InboundProcessor } from './services/inbound-processor.js';
import { MarketingPreferences } from './services/marketing-preferences.js';
import { MessageFacts } from './services/message-facts.js';
import { MessageKeys } from './services/message-keys.js';
import { MessageLocks } from './services/message-locks.js';
import { Messenger } from './services/messenger.js';
import { Outbox, SEND_STORED_JOB } from './services/outbox.js';
import { SendFeedback } from './services/send-feedback.js';
import { SendPolicies } from './services/send-policies.js';
import { TemplateReviews } from './services/template-reviews.js';
import { messageTriggerConfigSchema, MessageTrigger } from './triggers/message.js';
import {
  preferencesTriggerConfigSchema, PreferencesTrigger, statusTriggerConfigSchema, StatusTrigger, templateStatusTriggerConfigSchema, TemplateStatusTrigger,
} from './triggers/status.js';
import { messageViewSchema } from './views.js';
import { WhatsappLifecycle } from './whatsapp-lifecycle.js';

const whatsapp: Plugin<WhatsappConfig> = {
  manifest: {
    id: 'whatsapp',
    version: '1.0.0',
    core: '^0.1.0',
    description: 'WhatsApp Cloud API channel: signed webhooks, sending, conversations and delivery tracking',
    configSchema: whatsappConfigSchema,
    environment: whatsappEnvironment,
  },
  register(r) {
    r.bind(WhatsappConfigToken).toConstantValue(r.config);
    r.bind(Senders).toSelf().inSingletonScope();
    r.bind(ContactDirectory).toSelf().inSingletonScope();
    r.bind(MarketingPreferences).toSelf().inSingletonScope();
    r.bind(DeliveryTimeline).toSelf().inSingletonScope();
    r.bind(Messenger).toSelf().inSingletonScope();
    r.bind(SendPolicies).toSelf().inSingletonScope();
    r.bind(Outbox).toSelf().inSingletonScope();
    r.bind(InboundProcessor).toSelf().inSingletonScope();
    r.bind(Campaigns).toSelf().inSingletonScope();
    r.bind(DeliveryReports).toSelf().inSingletonScope();
    r.bind(OutboundStep).toSelf().inSingletonScope();
    r.bind(MessageKeys).toSelf().inSingletonScope();
    r.bind(MessageLocks).toSelf().inSingletonScope();
    r.bind(MessageFacts).toSelf().inSingletonScope();
    r.bind(TemplateReviews).toSelf().inSingletonScope();
    r.bind(SendFeedback).toSelf().inSingletonScope();
    r.model(ContactModel);
    r.model(MessageModel);
    r.model(WebhookUpdateModel);
    r.model(CampaignModel);
    r.model(MessageKeyModel);
    r.permissions({
      'messages:read': 'agent', 'messages:send': 'agent', 'messages:bulk': 'manager',
      'delivery:read': 'analyst', 'delivery:retry': 'manager',
    });

    r.trigger({ type: 'message', version: 1, impl: MessageTrigger, summary: 'An inbound WhatsApp message (text, buttons, replies, media, location…)', config: messageTriggerConfigSchema, event: messageEventSchema });
    r.trigger({ type: 'status', version: 1, impl: StatusTrigger, summary: 'A delivery status of a sent message: sent, delivered, read, played, failed', config: statusTriggerConfigSchema, event: statusEventSchema });
    r.trigger({ type: 'template-status', version: 1, impl: TemplateStatusTrigger, summary: 'Meta approved, rejected or paused a message template', config: templateStatusTriggerConfigSchema, event: templateStatusEventSchema });
    r.trigger({ type: 'preferences', version: 1, impl: PreferencesTrigger, summary: 'A user stopped or resumed marketing messages (Meta\'s signal or send error 131050)', config: preferencesTriggerConfigSchema, event: preferencesEventSchema });

    r.action({ type: 'send', version: 1, impl: SendAction, summary: 'Send a text, reply-button or template message', idempotent: true, input: sendInputSchema, output: sendOutputSchema });
    r.action({ type: 'reply', version: 1, impl: ReplyAction, summary: 'Answer an inbound message from the number it reached, quoting it', idempotent: true, input: replyInputSchema, output: sendOutputSchema });
    r.action({
      type: 'mark-read', version: 1, impl: MarkReadAction, summary: 'Mark an inbound message read (blue ticks)', idempotent: true, input: markReadInputSchema,
      output: { type: 'object', additionalProperties: false, required: ['marked'], properties: { marked: { type: 'boolean' } } },
    });
    r.policy({ type: 'window', version: 1, impl: WindowPolicy, summary: 'Free-form messages only within 24 hours of the customer\'s last message; templates any time', config: { type: 'object', additionalProperties: false, properties: {} } });

    r.routes(WebhookRoutes);
    r.routes(MessagingRoutes);
    r.routes(DeliveryRoutes);
    r.job({ name: SEND_STORED_JOB, handler: SendStoredJob, concurrency: 10, lockLifetimeMs: 60_000 });
    r.job({ name: PRUNE_UPDATES_JOB, handler: PruneUpdatesJob, concurrency: 1 });

    const messageEvent = messageViewSchema;
    r.topic({
      name: 'messages', permission: 'messages:read', summary: 'Messages as they are created, sent, received and updated; campaign progress',
      events: {
        'message.created': messageEvent, 'message.sent': messageEvent, 'message.failed': messageEvent, 'message.received': messageEvent, 'message.updated': messageEvent,
        'campaign.progress': { type: 'object', required: ['id', 'state', 'recipients', 'counts', 'done'] },
        'contact.preferences': preferencesEventSchema,
      },
    });
    r.topic({
      name: 'delivery', permission: 'delivery:read', summary: 'Every provider status as it arrives, and template status changes',
      events: {
        'status.updated': { type: 'object', required: ['messageId', 'providerMessageId', 'status', 'current', 'applied', 'at'] },
        'template.status': templateStatusEventSchema,
      },
    });
    r.lifecycle(WhatsappLifecycle);
  },
};

export default whatsapp;
