/**
 * Serves the dashboard's files. They are read once at start: the page is static, and everything
 * it shows comes from the API with the signed-in user's token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { injectable, projectRoot, type RouteController, type RouteDefinition } from '../../core/index.js';

const require = createRequire(import.meta.url);
const publicDir = join(projectRoot, 'plugins', 'dashboard', 'public');
/** The browser builds are not in the packages' `exports`: found from the package's own folder. */
function distFile(pkg: string, file: string): string {
  let dir = dirname(require.resolve(pkg));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== pkg) dir = dirname(dir);
  return join(dir, 'dist', file);
}

interface Asset {
  path: string;
  file: string;
  type: 'html' | 'js' | 'css';
  summary: string;
}

const ASSETS: Asset[] = [
  { path: '/dashboard', file: join(publicDir, 'index.html'), type: 'html', summary: 'The live dashboard page' },
  { path: '/dashboard/app.js', file: join(publicDir, 'app.js'), type: 'js', summary: 'Script of the dashboard' },
  { path: '/dashboard/app.css', file: join(publicDir, 'app.css'), type: 'css', summary: 'Style of the dashboard' },
  { path: '/dashboard/vendor/socket.io.min.js', file: distFile('socket.io-client', 'socket.io.min.js'), type: 'js', summary: 'The Socket.IO browser client the dashboard uses' },
  { path: '/dashboard/vendor/chart.umd.min.js', file: distFile('chart.js', 'chart.umd.min.js'), type: 'js', summary: 'Chart.js, for the analytics chart' },
];

const CONTENT_TYPES = { html: 'text/html', js: 'text/javascript', css: 'text/css' } as const;

@injectable()
export class DashboardRoutes implements RouteController {
  private readonly contents = new Map(ASSETS.map((asset) => [asset.path, readFileSync(asset.file, 'utf8')]));

  routes(): RouteDefinition[] {
    return ASSETS.map((asset) => ({
      method: 'get', path: asset.path, summary: asset.summary, permission: 'public', tags: ['dashboard'],
      responses: { 200: { description: asset.summary, contentType: CONTENT_TYPES[asset.type] } },
      handler: async (_req, res) => {
        res.type(asset.type).set('Cache-Control', 'no-cache').send(this.contents.get(asset.path));
        return undefined;
      },
    }));
  }
}
