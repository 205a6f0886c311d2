/** The core's own routes: liveness, readiness, metrics, the OpenAPI document and its reader, plugins. */
import type { RouteDefinition } from '../plugin-api.js';
import type { OpenApiDocument } from './openapi.js';

export interface PlatformProbes {
  checks(): Promise<Record<string, { ok: boolean; detail?: string }>>;
  metrics(): Promise<{ contentType: string; body: string }>;
  openApi(): OpenApiDocument;
  plugins(): unknown[];
}

const readinessSchema = {
  type: 'object',
  required: ['ready', 'checks'],
  properties: {
    ready: { type: 'boolean' },
    checks: { type: 'object', additionalProperties: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } } },
  },
} as const;

const pluginListSchema = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'version', 'state', 'triggers', 'actions', 'policies', 'topics', 'jobs'],
        properties: {
          id: { type: 'string' }, version: { type: 'string' }, description: { type: 'string' }, state: { type: 'string' }, error: { type: 'string' },
          dependsOn: { type: 'array', items: { type: 'string' } },
          triggers: { type: 'array', items: { type: 'object' } },
          actions: { type: 'array', items: { type: 'object' } },
          policies: { type: 'array', items: { type: 'object' } },
          topics: { type: 'array', items: { type: 'object' } },
          jobs: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowgate API</title>
<link rel="stylesheet" href="/docs/style.css"></head>
<body><h1>Flowgate API</h1><p>Generated from the route declarations: <a href="/api/openapi.json">openapi.json</a></p>
<div id="routes">Loading…</div><script src="/docs/reader.js"></script></body></html>`;

const DOCS_STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;max-width:70rem}details{border:1px solid #ddd;border-radius:4px;margin:.3rem 0;padding:.3rem .6rem}
summary{cursor:pointer}code.m{display:inline-block;width:4.5rem;font-weight:bold}pre{background:#f6f6f6;padding:.5rem;overflow:auto}.perm{color:#805;margin-left:1rem}`;

const DOCS_SCRIPT = `fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{const root=document.getElementById('routes');root.textContent='';
for(const [path,ops] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(ops)){const d=document.createElement('details');
const s=document.createElement('summary');s.innerHTML='<code class="m"></code><code class="p"></code><span class="sum"></span><span class="perm"></span>';
s.querySelector('.m').textContent=method.toUpperCase();s.querySelector('.p').textContent=path+'  ';s.querySelector('.sum').textContent=op.summary;
s.querySelector('.perm').textContent=op['x-permission'];d.appendChild(s);const pre=document.createElement('pre');
pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);d.appendChild(pre);root.appendChild(d);}}});`;

export function platformRoutes(probes: PlatformProbes): RouteDefinition[] {
  return [
    {
      method: 'get', path: '/api/health', summary: 'Liveness: the process is up', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'Up', schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' }, uptimeSeconds: { type: 'number' } } } } },
      handler: async () => ({ body: { status: 'ok', uptimeSeconds: Math.round(process.uptime()) } }),
    },
    {
      method: 'get', path: '/api/ready', summary: 'Readiness: MongoDB, Redis and the scheduler each reported', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'Ready', schema: readinessSchema }, 503: { description: 'Not ready', schema: readinessSchema } },
      handler: async () => {
        const checks = await probes.checks();
        const ready = Object.values(checks).every((c) => c.ok);
        return { status: ready ? 200 : 503, body: { ready, checks } };
      },
    },
    {
      method: 'get', path: '/metrics', summary: 'Prometheus metrics', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'Metrics in the Prometheus text format', contentType: 'text/plain' } },
      handler: async (_req, res) => {
        const { contentType, body } = await probes.metrics();
        res.setHeader('Content-Type', contentType);
        res.send(body);
        return undefined;
      },
    },
    {
      method: 'get', path: '/api/openapi.json', summary: 'This OpenAPI document', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'OpenAPI 3.1', schema: { type: 'object' } } },
      handler: async () => ({ body: probes.openApi() }),
    },
    {
      method: 'get', path: '/docs', summary: 'A page to read the OpenAPI document', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
      handler: async (_req, res) => { res.type('html').send(DOCS_PAGE); return undefined; },
    },
    {
      method: 'get', path: '/docs/style.css', summary: 'Style of the API page', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'CSS', contentType: 'text/css' } },
      handler: async (_req, res) => { res.type('css').send(DOCS_STYLE); return undefined; },
    },
    {
      method: 'get', path: '/docs/reader.js', summary: 'Script of the API page', permission: 'public', tags: ['platform'],
      responses: { 200: { description: 'JavaScript', contentType: 'text/javascript' } },
      handler: async (_req, res) => { res.type('js').send(DOCS_SCRIPT); return undefined; },
    },
    {
      method: 'get', path: '/api/plugins', summary: 'Loaded plugins with their triggers, actions, policies, topics and jobs', permission: 'plugins:read', tags: ['platform'],
      responses: { 200: { description: 'Plugins', schema: pluginListSchema } },
      handler: async () => ({ body: { items: probes.plugins() } }),
    },
  ];
}
