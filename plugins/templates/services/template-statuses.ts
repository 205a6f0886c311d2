/**
 * Changes a template's review status — from the provider's webhook, the status route or a
 * submission — and tells everyone who cares: the `templates` socket topic, the audit log (core
 * `activity` event) and whoever keeps figures (core `analytics` event).
 */
import type { Model } from 'mongoose';
import type { Logger } from 'winston';
import { CoreEvents, inject, injectable, LoggerToken, Realtime, type Principal } from '../../../core/index.js';
import type { TemplateStatusEvent, TemplateStatusListener } from '../../whatsapp/public.js';
import { TemplateModel, type StatusChange, type StatusSource, type Template } from '../models/template.js';
import type { TemplateStatus } from '../schemas.js';
import { TemplateCatalog } from './template-catalog.js';

export const TEMPLATES_TOPIC = 'templates';

/**
 * Meta's webhook events (reference §4) and the status each means for sending. Events not listed
 * (FLAGGED, LIMIT_EXCEEDED, ARCHIVED…) are logged but leave the status as it is.
 */
const PROVIDER_EVENTS: Readonly<Record<string, TemplateStatus>> = {
  APPROVED: 'APPROVED', REINSTATED: 'APPROVED', PENDING: 'PENDING', IN_APPEAL: 'PENDING', REJECTED: 'REJECTED',
  PAUSED: 'PAUSED', DISABLED: 'DISABLED', LOCKED: 'DISABLED', PENDING_DELETION: 'DISABLED', DELETED: 'DISABLED',
};

export interface StatusUpdate {
  status: TemplateStatus;
  reason: string | null;
  source: StatusSource;
  at: Date;
  actor: Principal | null;
}

@injectable()
export class TemplateStatuses implements TemplateStatusListener {
  constructor(
    @inject(TemplateModel.token) private readonly templates: Model<Template>,
    @inject(TemplateCatalog) private readonly catalog: TemplateCatalog,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(CoreEvents) private readonly events: CoreEvents,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {}

  /**
   * Applies a status unless a later change was already applied (webhooks arrive out of order).
   * Returns whether the status changed.
   */
  async change(template: Template, update: StatusUpdate): Promise<boolean> {
    if (template.status === update.status && template.statusReason === update.reason) return false;
    // Webhooks may arrive out of order; Meta's own order wins. Its times have whole seconds, so
    // they are compared only with each other, never with a submission or a manual change.
    if (update.source === 'provider' && template.providerStatusAt && update.at < template.providerStatusAt) {
      this.logger.info('template status older than the provider\'s last one ignored', { templateId: String(template._id), status: update.status, at: update.at });
      return false;
    }
    const entry: StatusChange = {
      status: update.status, previous: template.status, reason: update.reason, source: update.source, at: update.at, ...(update.actor ? { by: update.actor.id } : {}),
    };
    // Conditional on the status read, so two concurrent changes do not both record the same transition.
    const result = await this.templates.updateOne(
      { _id: template._id, status: template.status, statusChangedAt: template.statusChangedAt },
      {
        $set: { status: update.status, statusReason: update.reason, statusChangedAt: update.at, updatedAt: new Date(), ...(update.source === 'provider' ? { providerStatusAt: update.at } : {}) },
        $push: { statusHistory: entry },
      },
    );
    if (result.modifiedCount !== 1) return false;
    this.announce(template, entry, update.actor);
    return true;
  }

  /** A `message_template_status_update` webhook, already verified and parsed by the WhatsApp plugin. */
  async onTemplateStatus(event: TemplateStatusEvent): Promise<void> {
    const status = PROVIDER_EVENTS[event.event];
    const template = await this.catalog.forProvider(event.templateId, event.templateName, event.language);
    if (!template) {
      this.logger.info('status webhook for a template Flowgate does not keep', { providerTemplateId: event.templateId, name: event.templateName, event: event.event });
      return;
    }
    if (event.templateId && template.providerTemplateId !== event.templateId) await this.catalog.linkProvider(template, event.templateId);
    if (!status) {
      this.logger.info('template status event without effect on sending', { templateId: String(template._id), event: event.event });
      return;
    }
    await this.change(template, { status, reason: event.reason ?? null, source: 'provider', at: event.timestamp ? new Date(event.timestamp) : new Date(), actor: null });
  }

  private announce(template: Template, entry: StatusChange, actor: Principal | null): void {
    const id = String(template._id);
    this.realtime.publish(TEMPLATES_TOPIC, 'template.status', {
      id, name: template.name, language: template.language, status: entry.status, previous: entry.previous, reason: entry.reason, source: entry.source, at: entry.at.toISOString(),
    });
    this.events.emit('activity', {
      action: 'template.status_changed', actor, resource: { type: 'template', id }, outcome: 'succeeded',
      details: { name: template.name, language: template.language, previous: entry.previous, status: entry.status, reason: entry.reason, source: entry.source },
    });
    this.events.emit('analytics', {
      id: `template.status_changed:${id}:${entry.status}:${entry.at.getTime()}`, type: 'template.status_changed', occurredAt: entry.at,
      dimensions: { templateName: template.name, language: template.language, category: template.category, status: entry.status, source: entry.source },
    });
  }
}
