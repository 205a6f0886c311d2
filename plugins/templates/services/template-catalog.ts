/**
 * The templates Flowgate keeps: creation (one per name and language), new versions, archiving or
 * deleting, and the lookups the send policy and the status webhook need.
 */
import { Types, type Model } from 'mongoose';
import { HttpError, inject, injectable } from '../../../core/index.js';
import { nameKey, providerKey, TemplateKeyModel, type TemplateKey } from '../models/template-key.js';
import { TemplateModel, type Template } from '../models/template.js';
import { TemplateVersionModel, versionId, type TemplateVersion } from '../models/template-version.js';
import type { TemplateCategory, TemplateContent, TemplateStatus } from '../schemas.js';
import { checkTemplate } from '../template-rules.js';

const DUPLICATE_KEY = 11000;
const isDuplicate = (error: unknown): boolean => (error as { code?: number }).code === DUPLICATE_KEY;

export interface TemplateFilter {
  status?: TemplateStatus;
  category?: TemplateCategory;
  language?: string;
  name?: string;
  /** Archived templates are left out unless asked for. */
  archived: boolean;
}

@injectable()
export class TemplateCatalog {
  constructor(
    @inject(TemplateModel.token) private readonly templates: Model<Template>,
    @inject(TemplateVersionModel.token) private readonly versions: Model<TemplateVersion>,
    @inject(TemplateKeyModel.token) private readonly keys: Model<TemplateKey>,
  ) {}

  /** Throws 422 TEMPLATE_INVALID (every broken rule in `details.issues`) or 409 TEMPLATE_EXISTS. */
  async create(name: string, language: string, content: TemplateContent, actor: string): Promise<Template> {
    assertValid(content);
    const id = new Types.ObjectId();
    await this.claimName(name, language, String(id));
    const now = new Date();
    const template: Template = {
      _id: id, name, language, ...content, status: 'DRAFT', statusReason: null, statusChangedAt: null, providerStatusAt: null, version: 1, submittedVersion: null,
      providerTemplateId: null, statusHistory: [], archivedAt: null, createdBy: actor, createdAt: now, updatedAt: now,
    };
    try {
      await this.versions.create({ _id: versionId(String(id), 1), templateId: String(id), version: 1, ...content, createdBy: actor, createdAt: now, submittedAt: null });
      await this.templates.create(template);
    } catch (error) {
      await this.keys.deleteOne({ _id: nameKey(name, language), templateId: String(id) });
      throw error;
    }
    return template;
  }

  /** Throws 404 TEMPLATE_NOT_FOUND. */
  async get(id: string): Promise<Template> {
    const template = Types.ObjectId.isValid(id) ? await this.templates.findById(id).lean<Template>() : null;
    if (!template) throw new HttpError(404, 'TEMPLATE_NOT_FOUND', `Template ${JSON.stringify(id)} was not found`);
    return template;
  }

  async versionsOf(id: string): Promise<TemplateVersion[]> {
    return this.versions.find({ templateId: id }).sort({ version: 1 }).lean<TemplateVersion[]>();
  }

  /**
   * Stores `content` as the next version and makes it current. The provider keeps reviewing the
   * submitted version, so the status does not change. Throws 409 TEMPLATE_ARCHIVED, or
   * TEMPLATE_VERSION_CONFLICT when another edit made the same version first.
   */
  async update(id: string, content: TemplateContent, actor: string): Promise<Template> {
    const template = await this.get(id);
    if (template.archivedAt) throw archivedError(template);
    assertValid(content);
    const version = template.version + 1;
    const now = new Date();
    try {
      await this.versions.create({ _id: versionId(id, version), templateId: id, version, ...content, createdBy: actor, createdAt: now, submittedAt: null });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      // The other edit may never make its version current (its process died between the two
      // writes): doing it here is the same write it would make, and the reload then shows it.
      const other = await this.versions.findById(versionId(id, version)).lean<TemplateVersion>();
      if (other) await this.makeCurrent(template, other, now);
      throw new HttpError(409, 'TEMPLATE_VERSION_CONFLICT', `Version ${version} of the template was just created by another edit; reload and try again`);
    }
    await this.makeCurrent(template, { ...content, version }, now);
    return this.get(id);
  }

  /** Moves the template from the version it was read at to `next` (a no-op once it moved on). */
  private async makeCurrent(template: Template, next: TemplateContent & { version: number }, at: Date): Promise<void> {
    const { category, parameterFormat, components, variables, version } = next;
    await this.templates.updateOne({ _id: template._id, version: template.version }, { $set: { category, parameterFormat, components, variables, version, updatedAt: at } });
  }

  /**
   * A template never submitted to the provider is deleted with its versions; one the provider
   * knows is archived (kept, hidden from lists, never sendable), because messages and reports
   * still refer to it. Archiving twice is a no-op.
   */
  async remove(id: string): Promise<{ outcome: 'deleted' | 'archived'; template: Template }> {
    const template = await this.get(id);
    if (template.submittedVersion === null && template.providerTemplateId === null && template.status === 'DRAFT') {
      await this.templates.deleteOne({ _id: template._id });
      await this.versions.deleteMany({ templateId: id });
      await this.keys.deleteOne({ _id: nameKey(template.name, template.language), templateId: id });
      return { outcome: 'deleted', template };
    }
    if (template.archivedAt) return { outcome: 'archived', template };
    const now = new Date();
    await this.templates.updateOne({ _id: template._id }, { $set: { archivedAt: now, updatedAt: now } });
    return { outcome: 'archived', template: { ...template, archivedAt: now, updatedAt: now } };
  }

  /** Newest first; `cursor` is the id of the last template of the previous page. */
  async list(filter: TemplateFilter, limit: number, cursor?: string): Promise<Template[]> {
    const query: Record<string, unknown> = {
      ...(filter.status ? { status: filter.status } : {}), ...(filter.category ? { category: filter.category } : {}),
      ...(filter.language ? { language: filter.language } : {}), ...(filter.name ? { name: filter.name } : {}),
      ...(filter.archived ? {} : { archivedAt: null }),
      ...(cursor ? { _id: { $lt: new Types.ObjectId(cursor) } } : {}),
    };
    return this.templates.find(query).sort({ _id: -1 }).limit(limit).lean<Template[]>();
  }

  /** The template a send names, or null when Flowgate does not keep one by that name and language. */
  async byName(name: string, language: string): Promise<Template | null> {
    const key = await this.keys.findById(nameKey(name, language)).lean<TemplateKey>();
    return key ? this.templates.findById(key.templateId).lean<Template>() : null;
  }

  /** The template a status webhook is about: by the provider's id, else by name and language. */
  async forProvider(providerTemplateId: string, name: string, language: string): Promise<Template | null> {
    const key = providerTemplateId ? await this.keys.findById(providerKey(providerTemplateId)).lean<TemplateKey>() : null;
    const template = key ? await this.templates.findById(key.templateId).lean<Template>() : null;
    return template ?? this.byName(name, language);
  }

  /** Remembers the provider's id for a template (after a submission or its first webhook). */
  async linkProvider(template: Template, providerTemplateId: string): Promise<void> {
    await this.keys.updateOne({ _id: providerKey(providerTemplateId) }, { $set: { templateId: String(template._id) } }, { upsert: true });
    await this.templates.updateOne({ _id: template._id }, { $set: { providerTemplateId } });
  }

  /** Records that `version` went to the provider for review. */
  async markSubmitted(template: Template, version: number, providerTemplateId: string, category: TemplateCategory, at: Date): Promise<void> {
    await this.linkProvider(template, providerTemplateId);
    await this.versions.updateOne({ _id: versionId(String(template._id), version) }, { $set: { submittedAt: at } });
    // Meta may approve a template under another category than asked (reference §4).
    await this.templates.updateOne({ _id: template._id }, { $set: { submittedVersion: version, category, updatedAt: at } });
  }

  /** Takes the name for this language, or 409 TEMPLATE_EXISTS; an archived template gives its name up. */
  private async claimName(name: string, language: string, templateId: string): Promise<void> {
    const _id = nameKey(name, language);
    try {
      await this.keys.create({ _id, templateId });
      return;
    } catch (error) {
      if (!isDuplicate(error)) throw error;
    }
    const holder = await this.keys.findById(_id).lean<TemplateKey>();
    const current = holder ? await this.templates.findById(holder.templateId).lean<Template>() : null;
    if (current && !current.archivedAt) {
      throw new HttpError(409, 'TEMPLATE_EXISTS', `A template named ${name} already exists in ${language}`, { id: String(current._id) });
    }
    const taken = await this.keys.updateOne({ _id, templateId: holder?.templateId }, { $set: { templateId } });
    if (taken.modifiedCount !== 1) throw new HttpError(409, 'TEMPLATE_EXISTS', `A template named ${name} in ${language} was just created`);
  }
}

function assertValid(content: TemplateContent): void {
  const issues = checkTemplate(content);
  if (issues.length === 0) return;
  throw new HttpError(422, 'TEMPLATE_INVALID', `${issues.length} WhatsApp template rule${issues.length > 1 ? 's are' : ' is'} broken; first: ${issues[0]?.path} ${issues[0]?.message}`, { issues });
}

export function archivedError(template: Template): HttpError {
  return new HttpError(409, 'TEMPLATE_ARCHIVED', `Template ${template.name} (${template.language}) is archived`);
}
