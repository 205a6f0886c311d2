import { injectable, type TriggerContext } from '../../core/index.js';

export interface WebhookBinding {
  workflowId: string;
  /** Name of the environment variable holding the HMAC secret, when requests must be signed. */
  secretEnv?: string;
  emit: TriggerContext['emit'];
}

/** Which workflow listens on which webhook path, on this process. */
@injectable()
export class WebhookPaths {
  private readonly bindings = new Map<string, WebhookBinding>();

  add(path: string, binding: WebhookBinding): () => Promise<void> {
    this.bindings.set(path, binding);
    return async () => {
      if (this.bindings.get(path) === binding) this.bindings.delete(path);
    };
  }

  get(path: string): WebhookBinding | undefined {
    return this.bindings.get(path);
  }
}
