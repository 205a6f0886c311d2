/**
 * WhatsApp message templates: content checked against Meta's rules, versions, submission for
 * review, the review status (from Meta's webhook or set by hand), strict previews, and the
 * `template.approved@1` policy that lets only approved templates be sent. docs/templates.md.
 */
import type { Plugin } from '../../core/index.js';
import { TemplateStatusListenerToken } from '../whatsapp/public.js';
import { templatesConfigSchema, TemplatesConfigToken, type TemplatesConfig } from './config.js';
import { TemplateKeyModel } from './models/template-key.js';
import { TemplateVersionModel } from './models/template-version.js';
import { TemplateModel } from './models/template.js';
import { TemplateApprovedPolicy } from './policies/approved.js';
import { TemplateRoutes } from './routes.js';
import { statusEventSchema } from './schemas.js';
import { TemplateCatalog } from './services/template-catalog.js';
import { TEMPLATES_TOPIC, TemplateStatuses } from './services/template-statuses.js';
import { TemplateSubmitter } from './services/template-submitter.js';

const templates: Plugin<TemplatesConfig> = {
  manifest: {
    id: 'template',
    version: '1.0.0',
    core: '^0.1.0',
    dependsOn: ['whatsapp'],
    description: 'WhatsApp message templates: rules, versions, review submission and status, strict previews; only approved ones are sent',
    configSchema: templatesConfigSchema,
  },
  register(r) {
    r.bind(TemplatesConfigToken).toConstantValue(r.config);
    r.bind(TemplateCatalog).toSelf().inSingletonScope();
    r.bind(TemplateStatuses).toSelf().inSingletonScope();
    r.bind(TemplateSubmitter).toSelf().inSingletonScope();
    // Meta's template-status webhooks, received by the WhatsApp plugin, reach TemplateStatuses.
    r.bind(TemplateStatusListenerToken).toService(TemplateStatuses);
    r.model(TemplateModel);
    r.model(TemplateVersionModel);
    r.model(TemplateKeyModel);
    r.permissions({ 'templates:read': 'viewer', 'templates:write': 'manager', 'templates:submit': 'manager', 'templates:status': 'admin' });
    r.policy({
      type: 'approved', version: 1, impl: TemplateApprovedPolicy, summary: 'A template message goes out only when Meta approved the template; text passes',
      config: { type: 'object', additionalProperties: false, properties: {} },
    });
    r.routes(TemplateRoutes);
    r.topic({ name: TEMPLATES_TOPIC, permission: 'templates:read', summary: 'Template review status changes, from Meta, submissions and the status route', events: { 'template.status': statusEventSchema } });
  },
};

export default templates;
