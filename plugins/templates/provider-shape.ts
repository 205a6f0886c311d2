/**
 * A template in the Graph API's creation shape (`POST /{WABA-ID}/message_templates`,
 * reference §4): components with the example values the review needs.
 */
import type { TemplateSubmission } from '../whatsapp/public.js';
import type { Button, ComponentValues, TemplateContent } from './schemas.js';

export function toProviderTemplate(name: string, language: string, content: TemplateContent): TemplateSubmission {
  const { variables } = content;
  const components = content.components.map((component): Record<string, unknown> => {
    switch (component.type) {
      case 'HEADER':
        if (component.format === 'TEXT') return { type: 'HEADER', format: 'TEXT', text: component.text, ...examples('header', variables.header) };
        if (component.format === 'LOCATION') return { type: 'HEADER', format: 'LOCATION' };
        return { type: 'HEADER', format: component.format, example: { header_handle: [component.mediaHandle] } };
      case 'BODY': return { type: 'BODY', text: component.text, ...examples('body', variables.body) };
      case 'FOOTER': return { type: 'FOOTER', text: component.text };
      case 'BUTTONS': return { type: 'BUTTONS', buttons: component.buttons.map((button, index) => providerButton(button, variables.buttons?.[String(index)])) };
    }
  });
  return { name, language, category: content.category, parameter_format: content.parameterFormat, components };
}

function examples(component: 'header' | 'body', values: ComponentValues | undefined): Record<string, unknown> {
  if (!values || (Array.isArray(values) ? values.length === 0 : Object.keys(values).length === 0)) return {};
  if (!Array.isArray(values)) {
    return { example: { [`${component}_text_named_params`]: Object.entries(values).map(([name, example]) => ({ param_name: name, example })) } };
  }
  // Meta nests body examples one level deeper than header examples.
  return { example: component === 'body' ? { body_text: [values] } : { header_text: values } };
}

function providerButton(button: Button, example: string | undefined): Record<string, unknown> {
  switch (button.type) {
    case 'QUICK_REPLY': return { type: 'QUICK_REPLY', text: button.text };
    case 'URL': return { type: 'URL', text: button.text, url: button.url, ...(example !== undefined ? { example: [example] } : {}) };
    case 'PHONE_NUMBER': return { type: 'PHONE_NUMBER', text: button.text, phone_number: button.phoneNumber };
    case 'COPY_CODE': return { type: 'COPY_CODE', example: button.example };
  }
}
