/**
 * One JSON Schema per shape of a message template (reference/whatsapp.md §4): they validate
 * requests, give the TypeScript types and appear in the OpenAPI document. What a schema cannot
 * say (variable numbering, button grouping, category rules…) is checked in template-rules.ts.
 */
import type { FromSchema } from 'json-schema-to-ts';

export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
/** Review states at the provider; DRAFT means never submitted. */
export const TEMPLATE_STATUSES = ['DRAFT', 'PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
/** The states the provider (or the status route) can put a template in. */
export const REVIEW_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
export const PARAMETER_FORMATS = ['positional', 'named'] as const;

export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];
export type ParameterFormat = (typeof PARAMETER_FORMATS)[number];

/** Lowercase alphanumerics and underscores, ≤ 512 characters. */
export const templateNameSchema = { type: 'string', pattern: '^[a-z0-9_]{1,512}$', description: 'Lowercase letters, digits and underscores; one template per name and language' } as const;
/** Case-sensitive, underscore not hyphen: `en`, `en_US`, `pt_BR`. */
export const templateLanguageSchema = { type: 'string', pattern: '^[a-z]{2,3}(_[A-Z]{2})?$', description: 'Language code as Meta writes it: en, en_US, pt_BR (underscore, case-sensitive)' } as const;
const label = { type: 'string', minLength: 1, maxLength: 25 } as const;

// --- Components ------------------------------------------------------------------------------

export const headerTextSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'format', 'text'],
  properties: { type: { const: 'HEADER' }, format: { const: 'TEXT' }, text: { type: 'string', minLength: 1, maxLength: 60, description: 'At most one variable' } },
} as const;
export const headerMediaSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'format', 'mediaHandle'],
  properties: {
    type: { const: 'HEADER' }, format: { enum: ['IMAGE', 'VIDEO', 'GIF', 'DOCUMENT'] },
    mediaHandle: { type: 'string', minLength: 1, maxLength: 2048, description: 'Resumable-upload handle of a sample file, required by the review' },
  },
} as const;
export const headerLocationSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'format'],
  properties: { type: { const: 'HEADER' }, format: { const: 'LOCATION' } },
} as const;
export const bodySchema = {
  type: 'object', additionalProperties: false, required: ['type', 'text'],
  properties: { type: { const: 'BODY' }, text: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;
export const footerSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'text'],
  properties: { type: { const: 'FOOTER' }, text: { type: 'string', minLength: 1, maxLength: 60, description: 'No variables' } },
} as const;

export const quickReplyButtonSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'text'],
  properties: { type: { const: 'QUICK_REPLY' }, text: label },
} as const;
export const urlButtonSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'text', 'url'],
  properties: { type: { const: 'URL' }, text: label, url: { type: 'string', pattern: '^https?://', maxLength: 2000, description: 'May end with one variable, {{1}}' } },
} as const;
export const phoneButtonSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'text', 'phoneNumber'],
  properties: { type: { const: 'PHONE_NUMBER' }, text: label, phoneNumber: { type: 'string', pattern: '^\\+?[0-9][0-9 ()-]*$', maxLength: 20 } },
} as const;
export const copyCodeButtonSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'example'],
  properties: { type: { const: 'COPY_CODE' }, example: { type: 'string', minLength: 1, maxLength: 15, description: 'A sample code for the review' } },
} as const;

/**
 * Picks the shape by the value of `key`: an unknown value fails the enum, a known one is checked
 * against its shape only, so errors name the real problem instead of every alternative's.
 */
function byDiscriminator<K extends string, S extends Record<string, object>>(key: K, shapes: S) {
  return {
    type: 'object', required: [key],
    properties: { [key]: { enum: Object.keys(shapes) } },
    allOf: Object.entries(shapes).map(([value, shape]) => ({ if: { required: [key], properties: { [key]: { const: value } } }, then: shape })),
  } as const;
}

export const buttonSchema = byDiscriminator('type', {
  QUICK_REPLY: quickReplyButtonSchema, URL: urlButtonSchema, PHONE_NUMBER: phoneButtonSchema, COPY_CODE: copyCodeButtonSchema,
});
export const buttonsSchema = {
  type: 'object', additionalProperties: false, required: ['type', 'buttons'],
  properties: { type: { const: 'BUTTONS' }, buttons: { type: 'array', minItems: 1, maxItems: 10, items: buttonSchema } },
} as const;
export const headerSchema = byDiscriminator('format', { TEXT: headerTextSchema, IMAGE: headerMediaSchema, VIDEO: headerMediaSchema, GIF: headerMediaSchema, DOCUMENT: headerMediaSchema, LOCATION: headerLocationSchema });
export const componentSchema = byDiscriminator('type', { HEADER: headerSchema, BODY: bodySchema, FOOTER: footerSchema, BUTTONS: buttonsSchema });

export type HeaderText = FromSchema<typeof headerTextSchema>;
export type HeaderMedia = FromSchema<typeof headerMediaSchema>;
export type HeaderLocation = FromSchema<typeof headerLocationSchema>;
export type BodyComponent = FromSchema<typeof bodySchema>;
export type FooterComponent = FromSchema<typeof footerSchema>;
export type Button = FromSchema<typeof quickReplyButtonSchema> | FromSchema<typeof urlButtonSchema> | FromSchema<typeof phoneButtonSchema> | FromSchema<typeof copyCodeButtonSchema>;
export interface ButtonsComponent { type: 'BUTTONS'; buttons: Button[] }
export type Component = HeaderText | HeaderMedia | HeaderLocation | BodyComponent | FooterComponent | ButtonsComponent;

// --- Variables ----------------------------------------------------------------------------------

const variableValue = { type: 'string', minLength: 1, maxLength: 1024 } as const;
/** Values of one component's variables: a list for `{{1}}, {{2}}…`, an object for `{{first_name}}`. */
export const componentValuesSchema = {
  anyOf: [
    { type: 'array', items: variableValue, maxItems: 100, description: 'Positional: the value of {{1}} first' },
    { type: 'object', propertyNames: { pattern: '^[a-z_][a-z0-9_]*$' }, additionalProperties: variableValue, maxProperties: 100, description: 'Named: by variable name' },
  ],
} as const;
/**
 * Values for a template's variables, per component (Meta numbers positional variables per
 * component). At creation they are the examples the review needs; at preview, the values.
 */
export const variableSetSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    header: componentValuesSchema,
    body: componentValuesSchema,
    buttons: {
      type: 'object', propertyNames: { pattern: '^[0-9]$' }, additionalProperties: { type: 'string', minLength: 1, maxLength: 2000 },
      description: 'The value of a URL button\'s trailing {{1}}, by button index',
    },
  },
} as const;
export type ComponentValues = string[] | Record<string, string>;
export interface VariableSet { header?: ComponentValues; body?: ComponentValues; buttons?: Record<string, string> }

// --- Requests and views ---------------------------------------------------------------------------

const contentProperties = {
  category: { type: 'string', enum: TEMPLATE_CATEGORIES },
  parameterFormat: { type: 'string', enum: PARAMETER_FORMATS, default: 'positional', description: 'positional ({{1}}) or named ({{first_name}})' },
  components: { type: 'array', minItems: 1, maxItems: 4, items: componentSchema },
  variables: { ...variableSetSchema, description: 'An example value for every variable (the review requires them)' },
} as const;

/** Body of `POST /api/templates`. */
export const templateCreateSchema = {
  type: 'object', additionalProperties: false, required: ['name', 'language', 'category', 'components'],
  properties: { name: templateNameSchema, language: templateLanguageSchema, ...contentProperties },
} as const;
/** Body of `PUT /api/templates/:id`: a new version; name and language identify the template and stay. */
export const templateUpdateSchema = {
  type: 'object', additionalProperties: false, required: ['category', 'components'],
  properties: contentProperties,
} as const;

/** The content of one version, as stored and submitted. */
export interface TemplateContent {
  category: TemplateCategory;
  parameterFormat: ParameterFormat;
  components: Component[];
  variables: VariableSet;
}

export const statusChangeSchema = {
  type: 'object', additionalProperties: false, required: ['status', 'source', 'at'],
  properties: {
    status: { type: 'string', enum: TEMPLATE_STATUSES },
    previous: { type: 'string', enum: TEMPLATE_STATUSES },
    reason: { type: ['string', 'null'] },
    source: { type: 'string', enum: ['provider', 'api', 'submission'] },
    by: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
  },
} as const;
export type StatusChangeView = FromSchema<typeof statusChangeSchema>;

const nullable = (schema: { type: string; format?: string }) => ({ ...schema, type: [schema.type, 'null'] });
const templateViewProperties = {
  id: { type: 'string' },
  name: { type: 'string' },
  language: { type: 'string' },
  ...contentProperties,
  status: { type: 'string', enum: TEMPLATE_STATUSES },
  statusReason: nullable({ type: 'string' }),
  statusChangedAt: nullable({ type: 'string', format: 'date-time' }),
  version: { type: 'integer', minimum: 1, description: 'The latest version' },
  submittedVersion: nullable({ type: 'integer' }),
  providerTemplateId: nullable({ type: 'string' }),
  archivedAt: nullable({ type: 'string', format: 'date-time' }),
  createdAt: { type: 'string', format: 'date-time' },
  updatedAt: { type: 'string', format: 'date-time' },
} as const;
const templateViewRequired = [
  'id', 'name', 'language', 'category', 'parameterFormat', 'components', 'variables', 'status', 'statusReason', 'statusChangedAt',
  'version', 'submittedVersion', 'providerTemplateId', 'archivedAt', 'createdAt', 'updatedAt',
] as const;

export const templateViewSchema = { type: 'object', additionalProperties: false, required: templateViewRequired, properties: templateViewProperties } as const;

export const versionViewSchema = {
  type: 'object', additionalProperties: false, required: ['version', 'category', 'parameterFormat', 'components', 'variables', 'createdAt', 'createdBy', 'submittedAt'],
  properties: {
    version: { type: 'integer' }, ...contentProperties, createdAt: { type: 'string', format: 'date-time' }, createdBy: { type: 'string' },
    submittedAt: nullable({ type: 'string', format: 'date-time' }),
  },
} as const;

export const templateDetailSchema = {
  type: 'object', additionalProperties: false, required: [...templateViewRequired, 'versions', 'statusHistory'],
  properties: { ...templateViewProperties, versions: { type: 'array', items: versionViewSchema }, statusHistory: { type: 'array', items: statusChangeSchema } },
} as const;

export interface TemplateView {
  id: string; name: string; language: string; category: TemplateCategory; parameterFormat: ParameterFormat; components: Component[]; variables: VariableSet;
  status: TemplateStatus; statusReason: string | null; statusChangedAt: string | null; version: number; submittedVersion: number | null;
  providerTemplateId: string | null; archivedAt: string | null; createdAt: string; updatedAt: string;
}
export interface VersionView extends TemplateContent { version: number; createdAt: string; createdBy: string; submittedAt: string | null }
export interface TemplateDetailView extends TemplateView { versions: VersionView[]; statusHistory: StatusChangeView[] }

/** Payload of the `templates` topic's `template.status` event. */
export const statusEventSchema = {
  type: 'object', additionalProperties: false, required: ['id', 'name', 'language', 'status', 'previous', 'reason', 'source', 'at'],
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, language: { type: 'string' },
    status: { type: 'string', enum: TEMPLATE_STATUSES }, previous: { type: 'string', enum: TEMPLATE_STATUSES },
    reason: { type: ['string', 'null'] }, source: { type: 'string', enum: ['provider', 'api', 'submission'] }, at: { type: 'string', format: 'date-time' },
  },
} as const;
