/**
 * Variables inside template text: `{{1}}` (positional) or `{{first_name}}` (named), nothing else.
 * Shared by the rule checks, the preview and the submission, so all three read text the same way.
 */

export interface Placeholder {
  /** What is between the braces: `1` or `first_name`. */
  name: string;
  kind: 'positional' | 'named';
  /** Offsets of `{{` and just after `}}` in the text. */
  start: number;
  end: number;
}

export interface Malformed {
  /** The offending characters, e.g. `{{ First Name }}` or a lone `}}`. */
  token: string;
  start: number;
}

const CANDIDATE = /\{\{([^{}]*)\}\}/g;
const POSITIONAL = /^[1-9][0-9]*$/;
const NAMED = /^[a-z_][a-z0-9_]*$/;

/**
 * Finds the placeholders in `text`. Anything that looks like one but is not well formed — spaces,
 * capitals, `{{0}}`, triple braces, an escaping backslash, an unmatched `{{` or `}}` — is returned
 * as malformed, because Meta would show it literally and handlebars would read it differently.
 */
export function scanPlaceholders(text: string): { placeholders: Placeholder[]; malformed: Malformed[] } {
  const placeholders: Placeholder[] = [];
  const malformed: Malformed[] = [];
  let rest = '';
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const end = start + match[0].length;
    const name = match[1] as string;
    rest += text.slice(last, start) + ' '.repeat(end - start);
    last = end;
    const wrapped = text[start - 1] === '{' || text[end] === '}' || text[start - 1] === '\\';
    if (!wrapped && POSITIONAL.test(name)) placeholders.push({ name, kind: 'positional', start, end });
    else if (!wrapped && NAMED.test(name)) placeholders.push({ name, kind: 'named', start, end });
    else malformed.push({ token: match[0], start });
  }
  rest += text.slice(last);
  for (const stray of rest.matchAll(/\{\{|\}\}/g)) malformed.push({ token: stray[0], start: stray.index });
  return { placeholders, malformed: malformed.sort((a, b) => a.start - b.start) };
}

/** Distinct variable names in order of first appearance. */
export function variableNames(text: string): string[] {
  return [...new Set(scanPlaceholders(text).placeholders.map((p) => p.name))];
}
