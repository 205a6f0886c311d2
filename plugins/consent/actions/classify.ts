import { inject, injectable, type Action, type ActionResult } from '../../../core/index.js';
import { ConsentConfigToken, type ConsentConfig } from '../config.js';
import { classifyKeyword, type KeywordMatch } from '../keywords.js';

/**
 * `consent.classify@1`: classifies an inbound text as opt-out, opt-in, help or none with the
 * configured keyword lists, and leaves by the port of that name so a workflow branches on it.
 */
@injectable()
export class ClassifyAction implements Action<{ text: string | null }, KeywordMatch> {
  constructor(@inject(ConsentConfigToken) private readonly config: ConsentConfig) {}

  async execute(input: { text: string | null }): Promise<ActionResult<KeywordMatch>> {
    const match = classifyKeyword(input.text, this.config.keywords, this.config.match);
    return { output: match, port: match.classification };
  }
}
