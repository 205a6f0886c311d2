import { inject, injectable, type Policy, type PolicyCheck, type Verdict } from '../../../core/index.js';
import { TemplatesConfigToken, type TemplatesConfig } from '../config.js';
import { TemplateCatalog } from '../services/template-catalog.js';

/** The part of a `whatsapp.send@1` / `whatsapp.reply@1` input this policy reads. */
interface GuardedInput { template?: { name?: unknown; language?: unknown } }

/**
 * `template.approved@1`: a template message goes out only when Meta approved the template.
 * Text and interactive messages pass; so do templates Flowgate does not keep when
 * `allowUnknownTemplates` is set. Denying here says why, where Meta would answer 132001/132015/132016.
 */
@injectable()
export class TemplateApprovedPolicy implements Policy {
  constructor(@inject(TemplateCatalog) private readonly catalog: TemplateCatalog, @inject(TemplatesConfigToken) private readonly config: TemplatesConfig) {}

  async check({ step }: PolicyCheck): Promise<Verdict> {
    const named = ((step.input ?? {}) as GuardedInput).template;
    if (!named) return { decision: 'allow' };
    const name = String(named.name ?? '');
    // Meta writes en-US in some places and en_US in others (reference, uncertain 6).
    const language = String(named.language ?? '').replace('-', '_');
    const template = await this.catalog.byName(name, language);
    if (!template) {
      if (this.config.allowUnknownTemplates) return { decision: 'allow' };
      return { decision: 'deny', code: 'TEMPLATE_UNKNOWN', reason: `Template ${name} (${language}) is not kept by Flowgate, so its approval cannot be checked` };
    }
    if (template.archivedAt) {
      return { decision: 'deny', code: 'TEMPLATE_ARCHIVED', reason: `Template ${name} (${language}) is archived` };
    }
    if (template.status !== 'APPROVED') {
      const why = template.statusReason ? ` (${template.statusReason})` : '';
      return { decision: 'deny', code: 'TEMPLATE_NOT_APPROVED', reason: `Template ${name} (${language}) is ${template.status}${why}; only APPROVED templates can be sent` };
    }
    return { decision: 'allow' };
  }
}
