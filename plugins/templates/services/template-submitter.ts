/**
 * Sends a template's latest version to Meta for review: a first submission creates it on the
 * business account; a later one edits it (Meta reviews the edit again). The provider's id is
 * recorded and the status becomes what Meta answered, normally PENDING.
 */
import { CoreEvents, HttpError, inject, injectable, RedisConnection, type Principal } from '../../../core/index.js';
import { TemplateReviews, type GraphResult } from '../../whatsapp/public.js';
import type { Template } from '../models/template.js';
import { toProviderTemplate } from '../provider-shape.js';
import { TEMPLATE_CATEGORIES, type TemplateCategory } from '../schemas.js';
import { archivedError, TemplateCatalog } from './template-catalog.js';
import { TemplateStatuses } from './template-statuses.js';

/** Long enough for the Graph API call and its timeout. */
const SUBMIT_LOCK_MS = 60_000;

@injectable()
export class TemplateSubmitter {
  constructor(
    @inject(TemplateCatalog) private readonly catalog: TemplateCatalog,
    @inject(TemplateStatuses) private readonly statuses: TemplateStatuses,
    @inject(TemplateReviews) private readonly reviews: TemplateReviews,
    @inject(RedisConnection) private readonly redis: RedisConnection,
    @inject(CoreEvents) private readonly events: CoreEvents,
  ) {}

  /**
   * Throws 409 (archived, already submitted, a submission in progress), 422 when Meta refuses it,
   * 503 when Meta cannot be reached, 502 when it is unknown whether Meta received it.
   */
  async submit(id: string, actor: Principal | null): Promise<Template> {
    const lock = await this.redis.tryLock(`template:submit:${id}`, SUBMIT_LOCK_MS);
    if (!lock) throw new HttpError(409, 'TEMPLATE_SUBMIT_IN_PROGRESS', 'This template is being submitted already');
    try {
      const template = await this.catalog.get(id);
      if (template.archivedAt) throw archivedError(template);
      if (template.submittedVersion === template.version) {
        throw new HttpError(409, 'TEMPLATE_ALREADY_SUBMITTED', `Version ${template.version} was submitted already; its status is ${template.status}`);
      }
      const content = toProviderTemplate(template.name, template.language, template);
      const at = new Date();
      let providerTemplateId = template.providerTemplateId;
      let answered: { status?: string; category?: string } = {};
      if (providerTemplateId) {
        expectAccepted(await this.reviews.edit(providerTemplateId, { category: content.category, components: content.components }));
        answered = { status: 'PENDING' };
      } else {
        const created = expectAccepted(await this.reviews.submit(content));
        providerTemplateId = created.id;
        answered = created;
      }
      const category = TEMPLATE_CATEGORIES.includes(answered.category as TemplateCategory) ? answered.category as TemplateCategory : template.category;
      await this.catalog.markSubmitted(template, template.version, providerTemplateId, category, at);
      const status = answered.status === 'APPROVED' || answered.status === 'REJECTED' ? answered.status : 'PENDING';
      await this.statuses.change(await this.catalog.get(id), { status, reason: null, source: 'submission', at, actor });
      this.events.emit('activity', {
        action: 'template.submitted', actor, resource: { type: 'template', id }, outcome: 'succeeded',
        details: { name: template.name, language: template.language, version: template.version, providerTemplateId, category },
      });
      this.events.emit('analytics', {
        id: `template.submitted:${id}:${template.version}`, type: 'template.submitted', occurredAt: at,
        dimensions: { templateName: template.name, language: template.language, category },
      });
      return this.catalog.get(id);
    } finally {
      await lock.release();
    }
  }
}

function expectAccepted<T>(result: GraphResult<T>): T {
  if (result.ok) return result.value;
  const { error } = result;
  const details = { providerCode: error.code, category: error.category, reason: error.reason, ...(error.details ? { providerDetails: error.details } : {}) };
  if (result.outcome === 'unknown') throw new HttpError(502, 'TEMPLATE_SUBMIT_UNCERTAIN', `It is unknown whether Meta received the template (${error.reason}); check WhatsApp Manager before submitting again`, details);
  if (error.retryable) throw new HttpError(503, 'TEMPLATE_PROVIDER_UNAVAILABLE', `Meta could not take the template now (${error.reason}); try again later`, details);
  throw new HttpError(422, 'TEMPLATE_SUBMIT_REFUSED', `Meta refused the template: ${error.reason}${error.details ? ` (${error.details})` : ''}`, details);
}
