import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { inject, injectable, ROLES, type CommandHandler, type CommandIO, type RoleName } from '../../../core/index.js';
import { AuditLog } from '../../audit/public.js';
import { toUserView, UserDirectory } from '../user-directory.js';

const USAGE = 'flowgate user:create --email EMAIL --name NAME --role ROLE [--password-stdin]';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text.replace(/\r?\n$/, '');
}

/**
 * `flowgate user:create`: creates a user from the command line, typically the first owner. The
 * password is read from standard input (never from arguments, which other users can see in
 * the process list); without `--password-stdin` a random one is generated and printed once.
 */
@injectable()
export class UserCreateCommand implements CommandHandler {
  constructor(@inject(UserDirectory) private readonly users: UserDirectory, @inject(AuditLog) private readonly audit: AuditLog) {}

  async run(args: readonly string[], io: CommandIO): Promise<number> {
    let values: { email?: string; name?: string; role?: string; 'password-stdin'?: boolean };
    try {
      values = parseArgs({
        args: [...args], strict: true,
        options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
      }).values;
    } catch (error) {
      io.stderr.write(`user:create: ${(error as Error).message}\nusage: ${USAGE}\n`);
      return 2;
    }
    const { email, name, role } = values;
    if (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || !name || !role || !(ROLES as readonly string[]).includes(role)) {
      io.stderr.write(`user:create: --email (an address), --name and --role (${ROLES.join(', ')}) are required\nusage: ${USAGE}\n`);
      return 2;
    }
    const generated = !values['password-stdin'];
    const password = generated ? randomBytes(18).toString('base64url') : await readAll(io.stdin);
    if (password.length < 12) {
      io.stderr.write('user:create: the password needs at least 12 characters\n');
      return 2;
    }
    const user = toUserView(await this.users.create({ email, name, password, role: role as RoleName }));
    await this.audit.record({ actor: { kind: 'system', id: 'cli' }, action: 'user.created', resource: { type: 'user', id: user.id }, after: { email: user.email, role: user.role, source: 'cli' } });
    io.stdout.write(`${JSON.stringify({ user, ...(generated ? { password } : {}) })}\n`);
    return 0;
  }
}
