import { inject, injectable, Realtime, type JobHandler } from '../../../core/index.js';
import { Greeter } from '../greeter.js';

/** `hello.tally`: announces how many greetings exist, on the schedule set in config. */
@injectable()
export class GreetingTallyJob implements JobHandler {
  constructor(@inject(Greeter) private readonly greeter: Greeter, @inject(Realtime) private readonly realtime: Realtime) {}

  async run(): Promise<void> {
    this.realtime.publish('greetings', 'greeting.tally', { total: await this.greeter.count() });
  }
}
