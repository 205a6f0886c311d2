import { commonSchemas, HttpError, inject, injectable, type ApiRequest, type RouteController, type RouteDefinition } from '../../core/index.js';
import { renderTemplate } from './preview.js';
import {
  REVIEW_STATUSES, TEMPLATE_CATEGORIES, TEMPLATE_STATUSES, templateCreateSchema, templateDetailSchema, templateLanguageSchema, templateNameSchema,
  templateUpdateSchema, templateViewSchema, variableSetSchema,
  type ParameterFormat, type ReviewStatus, type TemplateCategory, type TemplateContent, type TemplateStatus, type VariableSet,
} from './schemas.js';
import { TemplateCatalog } from './services/template-catalog.js';
import { TemplateStatuses } from './services/template-statuses.js';
import { TemplateSubmitter } from './services/template-submitter.js';
import { toDetailView, toTemplateView } from './views.js';

const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: commonSchemas.objectId } } as const;
const listQuery = {
  type: 'object', additionalProperties: false,
  properties: {
    status: { type: 'string', enum: TEMPLATE_STATUSES }, category: { type: 'string', enum: TEMPLATE_CATEGORIES }, language: templateLanguageSchema, name: templateNameSchema,
    archived: { type: 'boolean', default: false, description: 'Include archived templates' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, cursor: commonSchemas.objectId,
  },
} as const;
const previewBody = {
  type: 'object', additionalProperties: false,
  properties: {
    variables: { ...variableSetSchema, default: {}, description: 'One value per variable: none missing, none extra' },
    version: { type: 'integer', minimum: 1, description: 'Render an earlier version; the latest by default' },
  },
} as const;
const previewResponse = {
  type: 'object', additionalProperties: false, required: ['id', 'version', 'header', 'body', 'footer', 'buttons', 'send'],
  properties: {
    id: { type: 'string' }, version: { type: 'integer' },
    header: { type: ['object', 'null'], required: ['format'], properties: { format: { type: 'string' }, text: { type: 'string' } } },
    body: { type: 'string' }, footer: { type: ['string', 'null'] },
    buttons: { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, text: { type: 'string' }, url: { type: 'string' }, phoneNumber: { type: 'string' }, example: { type: 'string' } } } },
    send: { type: 'object', required: ['name', 'language'], description: 'The `template` of POST /api/messages or a whatsapp.send@1 step with these values' },
  },
} as const;
const statusBody = {
  type: 'object', additionalProperties: false, required: ['status'],
  properties: { status: { type: 'string', enum: REVIEW_STATUSES }, reason: { type: 'string', minLength: 1, maxLength: 500 } },
} as const;
const page = (items: object) => ({ type: 'object', additionalProperties: false, required: ['items'], properties: { items: { type: 'array', items }, nextCursor: { type: 'string' } } });
const tags = ['templates'];

interface ContentBody { category: TemplateCategory; parameterFormat: ParameterFormat; components: TemplateContent['components']; variables?: VariableSet }
const contentOf = (body: ContentBody): TemplateContent => ({ category: body.category, parameterFormat: body.parameterFormat, components: body.components, variables: body.variables ?? {} });
const actorId = (req: ApiRequest): string => req.principal?.id ?? 'anonymous';

/** The Templates routes of API.md. */
@injectable()
export class TemplateRoutes implements RouteController {
  constructor(
    @inject(TemplateCatalog) private readonly catalog: TemplateCatalog,
    @inject(TemplateStatuses) private readonly statuses: TemplateStatuses,
    @inject(TemplateSubmitter) private readonly submitter: TemplateSubmitter,
  ) {}

  routes(): RouteDefinition[] {
    return [
      {
        method: 'get', path: '/api/templates', summary: 'List templates, newest first, by status, category, language or name', tags, permission: 'templates:read',
        query: listQuery, responses: { 200: { description: 'A page of templates', schema: page(templateViewSchema) } },
        handler: async (req) => {
          const q = req.query as { status?: TemplateStatus; category?: TemplateCategory; language?: string; name?: string; archived: boolean; limit: number; cursor?: string };
          const items = (await this.catalog.list(q, q.limit, q.cursor)).map(toTemplateView);
          const last = items.at(-1);
          return { body: { items, ...(items.length === q.limit && last ? { nextCursor: last.id } : {}) } };
        },
      },
      {
        method: 'post', path: '/api/templates', summary: 'Create a template (version 1, DRAFT), checked against WhatsApp\'s rules', tags, permission: 'templates:write',
        body: templateCreateSchema,
        responses: { 201: { description: 'Created', schema: templateViewSchema }, 409: { description: 'The name is taken in this language' }, 422: { description: 'A WhatsApp rule is broken; details.issues lists each with its code and path' } },
        handler: async (req) => {
          const body = req.body as ContentBody & { name: string; language: string };
          return { status: 201, body: toTemplateView(await this.catalog.create(body.name, body.language, contentOf(body), actorId(req))) };
        },
      },
      {
        method: 'get', path: '/api/templates/:id', summary: 'One template with its versions and status history', tags, permission: 'templates:read',
        params: idParams, responses: { 200: { description: 'The template', schema: templateDetailSchema } },
        handler: async (req) => {
          const template = await this.catalog.get(req.params.id as string);
          return { body: toDetailView(template, await this.catalog.versionsOf(req.params.id as string)) };
        },
      },
      {
        method: 'put', path: '/api/templates/:id', summary: 'Store new content as the next version (name and language stay)', tags, permission: 'templates:write',
        params: idParams, body: templateUpdateSchema,
        responses: { 200: { description: 'The template at its new version', schema: templateViewSchema }, 409: { description: 'Archived, or another edit made this version first' }, 422: { description: 'A WhatsApp rule is broken' } },
        handler: async (req) => ({ body: toTemplateView(await this.catalog.update(req.params.id as string, contentOf(req.body as ContentBody), actorId(req))) }),
      },
      {
        method: 'delete', path: '/api/templates/:id', summary: 'Delete a never-submitted template; archive one the provider knows', tags, permission: 'templates:write',
        params: idParams,
        responses: {
          200: {
            description: 'What happened',
            schema: { type: 'object', additionalProperties: false, required: ['id', 'outcome'], properties: { id: { type: 'string' }, outcome: { type: 'string', enum: ['deleted', 'archived'] } } },
          },
        },
        handler: async (req) => {
          const { outcome } = await this.catalog.remove(req.params.id as string);
          return { body: { id: req.params.id as string, outcome } };
        },
      },
      {
        method: 'post', path: '/api/templates/:id/preview', summary: 'Render with values; a missing or extra variable is an error naming it', tags, permission: 'templates:read',
        params: idParams, body: previewBody,
        responses: { 200: { description: 'The rendered message', schema: previewResponse }, 422: { description: 'TEMPLATE_VARIABLES_MISMATCH: details.missing and details.extra' } },
        handler: async (req) => {
          const id = req.params.id as string;
          const body = req.body as { variables: VariableSet; version?: number };
          const template = await this.catalog.get(id);
          let content: TemplateContent = template;
          if (body.version !== undefined && body.version !== template.version) {
            const found = (await this.catalog.versionsOf(id)).find((v) => v.version === body.version);
            if (!found) throw new HttpError(404, 'TEMPLATE_VERSION_NOT_FOUND', `Template ${template.name} has no version ${body.version}`);
            content = found;
          }
          return { body: { id, version: body.version ?? template.version, ...renderTemplate({ ...content, name: template.name, language: template.language }, body.variables) } };
        },
      },
      {
        method: 'post', path: '/api/templates/:id/submit', summary: 'Submit the latest version to Meta for review; status becomes PENDING', tags, permission: 'templates:submit',
        params: idParams,
        responses: {
          200: { description: 'Submitted: the provider id is recorded', schema: templateViewSchema },
          409: { description: 'Archived, already submitted, or a submission in progress' }, 422: { description: 'Meta refused it' },
          502: { description: 'Unknown whether Meta received it' }, 503: { description: 'Meta could not be reached' },
        },
        handler: async (req) => ({ body: toTemplateView(await this.submitter.submit(req.params.id as string, req.principal)) }),
      },
      {
        method: 'put', path: '/api/templates/:id/status', summary: 'Record the review status by hand (Meta\'s webhook sets it too)', tags, permission: 'templates:status',
        params: idParams, body: statusBody,
        responses: {
          200: {
            description: 'The template; `changed` is false when it already had this status',
            schema: { type: 'object', additionalProperties: false, required: ['template', 'changed'], properties: { template: templateViewSchema, changed: { type: 'boolean' } } },
          },
        },
        handler: async (req) => {
          const id = req.params.id as string;
          const body = req.body as { status: ReviewStatus; reason?: string };
          const changed = await this.statuses.change(await this.catalog.get(id), { status: body.status, reason: body.reason ?? null, source: 'api', at: new Date(), actor: req.principal });
          return { body: { template: toTemplateView(await this.catalog.get(id)), changed } };
        },
      },
    ];
  }
}
