// mocha's spec reporter plus one closing line in the plain form CI reads:
// "Tests: N passed, N failed, N skipped". CommonJS because mocha loads reporters with require().
'use strict';
const Mocha = require('mocha');

class FlowgateReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`Tests: ${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}

module.exports = FlowgateReporter;
