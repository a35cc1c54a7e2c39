import type { Command } from 'commander';
import type { Io } from '../io.js';

/** `gossip keygen`: a fresh 32-byte key in base64, for `--encrypt` and `gossip keys install` (as `serf keygen`). */
export function registerKeygen(program: Command, io: Io): void {
  program.command('keygen').description('print a new random 32-byte encryption key (base64)')
    .action(async () => {
      const { randomBytes } = await import('node:crypto');
      io.out(randomBytes(32).toString('base64'));
    });
}
