import assert from 'node:assert/strict';
import { CORE_PROBE_PLUGIN, startTestServer, type TestServer } from '../../helpers/test-host.js';

describe('core/observability/metrics', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ label: 'metrics', plugins: [CORE_PROBE_PLUGIN] }); });
  after(async () => { await t?.stop(); });

  it('GET /metrics exposes request latency by route, event-loop lag and the metrics plugins register', async () => {
    await t.request('get', '/api/health');
    await t.request('get', '/api/nothing-here');
    await t.request('post', '/api/core-probe/echo', { as: 'agent', body: { contact: { phone: '4915112345678' } } });
    const metrics = await t.request('get', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.text, /^# TYPE flowgate_http_request_duration_seconds histogram$/m);
    assert.match(metrics.text, /^flowgate_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/health",status="200"\} \d+$/m);
    assert.match(metrics.text, /^flowgate_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1$/m,
      'unknown paths share one label value, so they cannot blow up the series count');
    assert.match(metrics.text, /^flowgate_nodejs_eventloop_lag_seconds \d/m);
    assert.match(metrics.text, /^flowgate_nodejs_eventloop_lag_p99_seconds \d/m);
    assert.match(metrics.text, /^flowgate_core_probe_echoes_total 1$/m);
  });
});
