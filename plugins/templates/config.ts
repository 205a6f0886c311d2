import type { FromSchema } from 'json-schema-to-ts';

export const templatesConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['allowUnknownTemplates'],
  properties: {
    allowUnknownTemplates: {
      type: 'boolean', default: false,
      description: 'Let template.approved@1 pass templates Flowgate does not keep (made in WhatsApp Manager); Meta still refuses unapproved ones',
    },
  },
} as const;

export type TemplatesConfig = FromSchema<typeof templatesConfigSchema>;
export const TemplatesConfigToken = Symbol.for('template.Config');
