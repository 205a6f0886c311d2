/** Stores greetings once per idempotency key and announces them on the `greetings` topic. */
import type { Model } from 'mongoose';
import { inject, injectable, Realtime, WorkflowEventsToken, type WorkflowEvents } from '../../core/index.js';
import { HelloConfigToken, type HelloConfig } from './config.js';
import { GreetingModel, toGreetingView, type Greeting } from './models/greeting.js';
import type { GreetingView } from './schemas.js';

@injectable()
export class Greeter {
  constructor(
    @inject(GreetingModel.token) private readonly greetings: Model<Greeting>,
    @inject(HelloConfigToken) private readonly config: HelloConfig,
    @inject(Realtime) private readonly realtime: Realtime,
    @inject(WorkflowEventsToken) private readonly events: WorkflowEvents,
  ) {}

  isBlocked(name: string): boolean {
    return this.config.blockedNames.some((blocked) => blocked.toLowerCase() === name.trim().toLowerCase());
  }

  /** Creates the greeting, or returns the one already stored under `idempotencyKey`. */
  async greet(name: string, idempotencyKey: string): Promise<{ greeting: GreetingView; created: boolean }> {
    const result = await this.greetings.findOneAndUpdate(
      { idempotencyKey },
      { $setOnInsert: { name, text: `${this.config.salutation}, ${name}!`, idempotencyKey, createdAt: new Date() } },
      { upsert: true, returnDocument: 'after', includeResultMetadata: true, lean: true },
    );
    const doc = result.value as (Greeting & { _id: unknown }) | null;
    if (!doc) throw new Error('upsert returned no document');
    const greeting = toGreetingView(doc);
    const created = !result.lastErrorObject?.updatedExisting;
    if (created) {
      this.realtime.publish('greetings', 'greeting.created', greeting);
      // Workflows with the hello.greeting trigger run from this; the greeting id makes a repeat a no-op.
      await this.events.submit({ type: 'hello.greeting@1', sourceId: greeting.id, payload: { name: greeting.name, greetingId: greeting.id } });
    }
    return { greeting, created };
  }

  async list(limit: number, before?: string): Promise<GreetingView[]> {
    const filter = before ? { _id: { $lt: before } } : {};
    const docs = await this.greetings.find(filter).sort({ _id: -1 }).limit(limit).lean();
    return docs.map((doc) => toGreetingView(doc));
  }

  async count(): Promise<number> {
    return this.greetings.countDocuments();
  }
}
