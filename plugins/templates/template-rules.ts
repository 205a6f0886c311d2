/**
 * WhatsApp's template rules that JSON Schema cannot express (reference/whatsapp.md §4). Each
 * problem has a stable code (docs/error-codes.md) and the path of the value at fault, in the
 * notation the core uses for schema errors (`body.components[1].text`).
 */
import { scanPlaceholders, variableNames } from './placeholders.js';
import type { Button, Component, ComponentValues, ParameterFormat, TemplateCategory, TemplateContent, VariableSet } from './schemas.js';

export interface TemplateIssue {
  code: string;
  /** Where the problem is, e.g. `body.components[1].text`. */
  path: string;
  message: string;
}

/** Where variables may appear: header text, body text, and the end of a URL button's address. */
export interface VariableSlot {
  component: 'header' | 'body' | 'buttons';
  /** The button index, for URL buttons. */
  button?: number;
  /** Distinct variable names, in order of first appearance. */
  names: string[];
}

/** Per-button limits (the 10-button total is in the schema). */
const BUTTON_LIMITS: Record<Button['type'], number> = { QUICK_REPLY: 10, URL: 2, PHONE_NUMBER: 1, COPY_CODE: 1 };
const AUTHENTICATION_PARAMETER_MAX = 15;
const URL_IN_TEXT = /\bhttps?:\/\/|\bwww\./i;
const EMOJI = /\p{Extended_Pictographic}/u;

/** The variables of each component that may hold them. */
export function variableSlots(components: readonly Component[]): VariableSlot[] {
  return components.flatMap((component): VariableSlot[] => {
    if (component.type === 'HEADER' && component.format === 'TEXT') return [{ component: 'header', names: variableNames(component.text) }];
    if (component.type === 'BODY') return [{ component: 'body', names: variableNames(component.text) }];
    if (component.type !== 'BUTTONS') return [];
    return component.buttons.flatMap((button, j): VariableSlot[] => (button.type === 'URL' ? [{ component: 'buttons', button: j, names: variableNames(button.url) }] : []));
  });
}

/** Checks a template's content; an empty list means WhatsApp's documented rules are met. */
export function checkTemplate(content: TemplateContent, root = 'body.'): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  const add = (code: string, path: string, message: string) => issues.push({ code, path, message });
  checkStructure(content.components, root, add);
  checkPlaceholders(content.components, content.parameterFormat, root, add);
  checkButtons(content.components, root, add);
  checkCategory(content.category, content.components, content.variables, root, add);
  for (const issue of compareValues(variableSlots(content.components), content.parameterFormat, content.variables, `${root}variables`)) {
    const { code, message } = EXAMPLE_ISSUES[issue.kind];
    add(code, issue.path, message(issue));
  }
  return issues;
}

type Add = (code: string, path: string, message: string) => void;

/** How a mismatch between the examples and the variables is reported at creation. */
const EXAMPLE_ISSUES: Record<ValueIssue['kind'], { code: string; message: (issue: ValueIssue) => string }> = {
  missing: { code: 'TEMPLATE_EXAMPLE_MISSING', message: (issue) => `${issue.label} needs an example value for the review` },
  extra: { code: 'TEMPLATE_EXAMPLE_UNUSED', message: (issue) => `${issue.label} is not used by the template` },
  format: { code: 'TEMPLATE_EXAMPLE_FORMAT', message: (issue) => issue.message },
};

function checkStructure(components: readonly Component[], root: string, add: Add): void {
  const seen = new Set<string>();
  components.forEach((component, i) => {
    if (seen.has(component.type)) add('TEMPLATE_COMPONENT_DUPLICATE', `${root}components[${i}]`, `A template has at most one ${component.type} component`);
    seen.add(component.type);
  });
  if (!seen.has('BODY')) add('TEMPLATE_BODY_REQUIRED', `${root}components`, 'A template needs a BODY component');
}

function checkPlaceholders(components: readonly Component[], format: ParameterFormat, root: string, add: Add): void {
  const texts: Array<{ path: string; text: string; variables: 'many' | 'one' | 'trailing' | 'none'; where: string }> = [];
  components.forEach((component, i) => {
    const at = `${root}components[${i}]`;
    if (component.type === 'BODY') texts.push({ path: `${at}.text`, text: component.text, variables: 'many', where: 'The body' });
    if (component.type === 'HEADER' && component.format === 'TEXT') texts.push({ path: `${at}.text`, text: component.text, variables: 'one', where: 'A text header' });
    if (component.type === 'FOOTER') texts.push({ path: `${at}.text`, text: component.text, variables: 'none', where: 'A footer' });
    if (component.type === 'BUTTONS') {
      component.buttons.forEach((button, j) => {
        if ('text' in button) texts.push({ path: `${at}.buttons[${j}].text`, text: button.text, variables: 'none', where: 'A button label' });
        if (button.type === 'URL') texts.push({ path: `${at}.buttons[${j}].url`, text: button.url, variables: 'trailing', where: 'A URL' });
        if (button.type === 'PHONE_NUMBER') texts.push({ path: `${at}.buttons[${j}].phoneNumber`, text: button.phoneNumber, variables: 'none', where: 'A phone number' });
      });
    }
  });
  for (const { path, text, variables, where } of texts) {
    const { placeholders, malformed } = scanPlaceholders(text);
    for (const bad of malformed) add('TEMPLATE_PLACEHOLDER_INVALID', path, `${JSON.stringify(bad.token)} is not a variable: write {{1}}, {{2}}… or {{lowercase_name}}`);
    if (placeholders.length === 0) continue;
    if (variables === 'none') {
      add('TEMPLATE_VARIABLE_NOT_ALLOWED', path, `${where} cannot contain variables`);
      continue;
    }
    if (variables === 'trailing') {
      const only = placeholders[0];
      if (placeholders.length > 1 || only?.name !== '1' || only.end !== text.length) add('TEMPLATE_URL_VARIABLE', path, 'A URL may hold one variable, {{1}}, at its very end');
      continue;
    }
    const wrongKind = placeholders.find((p) => p.kind !== format);
    if (wrongKind) add('TEMPLATE_PARAMETER_FORMAT_MISMATCH', path, `{{${wrongKind.name}}} is a ${wrongKind.kind} variable but the template's parameterFormat is ${format}`);
    placeholders.forEach((current, k) => {
      const before = placeholders[k - 1];
      if (before && before.end === current.start) add('TEMPLATE_VARIABLES_ADJACENT', path, `{{${before.name}}}{{${current.name}}}: variables need text between them`);
    });
    const names = [...new Set(placeholders.map((p) => p.name))];
    if (variables === 'one' && names.length > 1) add('TEMPLATE_HEADER_VARIABLES', path, `${where} may hold one variable; it has ${names.length}`);
    if (format === 'positional' && !wrongKind) {
      const expected = names.map((_, k) => String(k + 1));
      if (names.join(',') !== expected.join(',')) add('TEMPLATE_POSITIONAL_SEQUENCE', path, `Positional variables must be numbered {{1}}, {{2}}… in order of appearance without gaps; found ${names.map((n) => `{{${n}}}`).join(', ')}`);
    }
  }
}

function checkButtons(components: readonly Component[], root: string, add: Add): void {
  components.forEach((component, i) => {
    if (component.type !== 'BUTTONS') return;
    const path = `${root}components[${i}].buttons`;
    const counts = new Map<Button['type'], number>();
    for (const button of component.buttons) counts.set(button.type, (counts.get(button.type) ?? 0) + 1);
    for (const [type, count] of counts) {
      const limit = BUTTON_LIMITS[type];
      if (count > limit) add('TEMPLATE_BUTTON_LIMIT', path, `At most ${limit} ${type} button${limit > 1 ? 's' : ''}; found ${count}`);
    }
    const quick = component.buttons.map((b, j) => (b.type === 'QUICK_REPLY' ? j : -1)).filter((j) => j >= 0);
    if (quick.length > 0 && (quick.at(-1) as number) - (quick[0] as number) + 1 !== quick.length) {
      add('TEMPLATE_QUICK_REPLIES_NOT_GROUPED', path, 'Quick-reply buttons must be next to each other, not mixed between other buttons');
    }
  });
}

function checkCategory(category: TemplateCategory, components: readonly Component[], variables: VariableSet, root: string, add: Add): void {
  components.forEach((component, i) => {
    const at = `${root}components[${i}]`;
    if (component.type === 'HEADER' && component.format === 'LOCATION' && category === 'AUTHENTICATION') {
      add('TEMPLATE_LOCATION_HEADER_CATEGORY', `${at}.format`, 'A location header is for UTILITY and MARKETING templates only');
    }
    if (category !== 'AUTHENTICATION') return;
    if (component.type === 'HEADER' && component.format !== 'TEXT' && component.format !== 'LOCATION') add('TEMPLATE_AUTH_MEDIA', `${at}.format`, 'Authentication templates cannot have a media header');
    const texts: Array<[string, string]> = 'text' in component ? [[`${at}.text`, component.text]] : [];
    if (component.type === 'BUTTONS') {
      component.buttons.forEach((button, j) => {
        if (button.type === 'URL') add('TEMPLATE_AUTH_URL', `${at}.buttons[${j}]`, 'Authentication templates cannot have URL buttons');
        if ('text' in button) texts.push([`${at}.buttons[${j}].text`, button.text]);
      });
    }
    for (const [path, text] of texts) {
      if (URL_IN_TEXT.test(text)) add('TEMPLATE_AUTH_URL', path, 'Authentication templates cannot contain URLs');
      if (EMOJI.test(text)) add('TEMPLATE_AUTH_EMOJI', path, 'Authentication templates cannot contain emojis');
    }
  });
  if (category !== 'AUTHENTICATION') return;
  for (const component of ['header', 'body'] as const) {
    const values = variables[component];
    if (!values) continue;
    for (const [key, value] of Object.entries(values)) {
      if (value.length > AUTHENTICATION_PARAMETER_MAX) {
        add('TEMPLATE_AUTH_PARAMETER_LENGTH', `${root}variables.${component}${Array.isArray(values) ? `[${key}]` : `.${key}`}`, `Authentication template parameters are at most ${AUTHENTICATION_PARAMETER_MAX} characters`);
      }
    }
  }
}

export interface ValueIssue {
  kind: 'missing' | 'extra' | 'format';
  path: string;
  /** `body {{2}}`, for messages. */
  label: string;
  message: string;
}

/**
 * Compares values given per component with the variables the texts use: what is missing, what
 * is extra, and values in the wrong form (a list for a named template or an object for a
 * positional one). Used for the review's examples and for preview values alike.
 */
export function compareValues(slots: readonly VariableSlot[], format: ParameterFormat, given: VariableSet, root: string): ValueIssue[] {
  const issues: ValueIssue[] = [];
  for (const component of ['header', 'body'] as const) {
    const names = slots.find((s) => s.component === component)?.names ?? [];
    const values: ComponentValues | undefined = given[component];
    const path = `${root}.${component}`;
    if (values !== undefined && Array.isArray(values) !== (format === 'positional')) {
      issues.push({ kind: 'format', path, label: component, message: format === 'positional' ? `${component} values must be a list, {{1}} first (the template is positional)` : `${component} values must be an object by variable name (the template is named)` });
      continue;
    }
    const present = Array.isArray(values) ? values.map((_, k) => String(k + 1)) : Object.keys(values ?? {});
    const at = (name: string) => (format === 'positional' ? `${path}[${Number(name) - 1}]` : `${path}.${name}`);
    for (const name of names.filter((n) => !present.includes(n))) issues.push({ kind: 'missing', path: at(name), label: `${component} {{${name}}}`, message: '' });
    for (const name of present.filter((n) => !names.includes(n))) issues.push({ kind: 'extra', path: at(name), label: `${component} {{${name}}}`, message: '' });
  }
  const urlSlots = slots.filter((s) => s.component === 'buttons');
  const buttonValues = given.buttons ?? {};
  for (const slot of urlSlots) {
    const key = String(slot.button);
    if (slot.names.length > 0 && buttonValues[key] === undefined) issues.push({ kind: 'missing', path: `${root}.buttons[${key}]`, label: `button ${key} {{1}}`, message: '' });
  }
  for (const key of Object.keys(buttonValues)) {
    if (!urlSlots.some((s) => String(s.button) === key && s.names.length > 0)) issues.push({ kind: 'extra', path: `${root}.buttons[${key}]`, label: `button ${key}`, message: '' });
  }
  return issues;
}
