/**
 * Renders a template with values, the way the customer will read it. Handlebars in strict mode
 * does the substitution; before it runs, the values are compared with the variables the texts
 * use, so a missing or an extra value is refused with every one of them named (strict mode alone
 * would stop at the first missing one and never notice extras).
 */
import Handlebars from 'handlebars';
import { HttpError } from '../../core/index.js';
import { scanPlaceholders } from './placeholders.js';
import type { Button, ComponentValues, TemplateContent, VariableSet } from './schemas.js';
import { compareValues, variableSlots, type ValueIssue } from './template-rules.js';

const handlebars = Handlebars.create();
const VALUE_ISSUE_CODES: Record<ValueIssue['kind'], string> = { missing: 'TEMPLATE_VARIABLE_MISSING', extra: 'TEMPLATE_VARIABLE_EXTRA', format: 'TEMPLATE_VARIABLES_FORM' };

export interface RenderedButton { type: Button['type']; text?: string; url?: string; phoneNumber?: string; example?: string }
export interface RenderedTemplate {
  header: { format: string; text?: string } | null;
  body: string;
  footer: string | null;
  buttons: RenderedButton[];
  /** The `template` object of a `whatsapp.send@1` step or `POST /api/messages` with these values. */
  send: { name: string; language: string; variables?: ComponentValues; components?: Array<Record<string, unknown>> };
}

/** Throws 422 TEMPLATE_VARIABLES_MISMATCH naming every missing and extra variable. */
export function renderTemplate(template: TemplateContent & { name: string; language: string }, values: VariableSet): RenderedTemplate {
  const issues = compareValues(variableSlots(template.components), template.parameterFormat, values, 'body.variables');
  if (issues.length > 0) {
    const missing = issues.filter((i) => i.kind === 'missing').map((i) => i.label);
    const extra = issues.filter((i) => i.kind === 'extra').map((i) => i.label);
    const wrongForm = issues.filter((i) => i.kind === 'format').map((i) => i.message);
    const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `extra ${extra.join(', ')}` : '', ...wrongForm].filter(Boolean);
    throw new HttpError(422, 'TEMPLATE_VARIABLES_MISMATCH', `The values do not match the template's variables: ${parts.join('; ')}`, {
      missing, extra,
      issues: issues.map((i) => ({ code: VALUE_ISSUE_CODES[i.kind], path: i.path, message: i.kind === 'format' ? i.message : i.label })),
    });
  }
  const context = (given: ComponentValues | undefined): Record<string, string> => (Array.isArray(given) ? Object.fromEntries(given.map((v, k) => [String(k + 1), v])) : given ?? {});
  let header: RenderedTemplate['header'] = null;
  let body = '';
  let footer: string | null = null;
  const buttons: RenderedButton[] = [];
  const sendComponents: Array<Record<string, unknown>> = [];
  for (const component of template.components) {
    if (component.type === 'HEADER') {
      header = component.format === 'TEXT' ? { format: 'TEXT', text: render(component.text, context(values.header)) } : { format: component.format };
      if (component.format === 'TEXT' && values.header) sendComponents.push({ type: 'header', parameters: parameters(values.header) });
    }
    if (component.type === 'BODY') body = render(component.text, context(values.body));
    if (component.type === 'FOOTER') footer = component.text;
    if (component.type === 'BUTTONS') {
      component.buttons.forEach((button, index) => {
        if (button.type !== 'URL') return buttons.push({ ...button });
        const suffix = values.buttons?.[String(index)];
        buttons.push({ type: 'URL', text: button.text, url: render(button.url, suffix === undefined ? {} : { 1: encodeURIComponent(suffix) }) });
        if (suffix !== undefined) sendComponents.push({ type: 'button', sub_type: 'url', index: String(index), parameters: [{ type: 'text', text: suffix }] });
      });
    }
  }
  return {
    header, body, footer, buttons,
    send: { name: template.name, language: template.language, ...(values.body ? { variables: values.body } : {}), ...(sendComponents.length ? { components: sendComponents } : {}) },
  };
}

/** `{{1}}` is a number literal to handlebars; `{{[1]}}` looks the key up, strictly. */
function render(text: string, context: Record<string, string>): string {
  const { placeholders } = scanPlaceholders(text);
  let source = '';
  let last = 0;
  for (const p of placeholders) {
    source += text.slice(last, p.start) + `{{[${p.name}]}}`;
    last = p.end;
  }
  source += text.slice(last);
  return handlebars.compile(source, { strict: true, noEscape: true, knownHelpersOnly: true })(context);
}

function parameters(values: ComponentValues): Array<Record<string, string>> {
  return Array.isArray(values) ? values.map((text) => ({ type: 'text', text })) : Object.entries(values).map(([name, text]) => ({ type: 'text', parameter_name: name, text }));
}
