import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../core/paths.js';

describe('reliability: fuzzing every route from the OpenAPI document (tests/fuzz/run, short pass)', function () {
  // Bounded by the script: FUZZ_MAX_SECONDS of generation plus start-up; the long pass is run by hand.
  const maxSeconds = Number(process.env.FUZZ_MAX_SECONDS ?? 75);
  this.timeout((maxSeconds + 150) * 1000);

  it('finds no 5xx and no response that differs from its declared schema or media type', async () => {
    const child = spawn(join(projectRoot, 'tests/fuzz/run'), [], {
      cwd: projectRoot,
      env: { ...process.env, FUZZ_MAX_SECONDS: String(maxSeconds), FUZZ_LONG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, `schemathesis reported failures:\n${output.slice(-8_000)}`);
    assert.match(output, /Tested: \d+/);
  });
});
