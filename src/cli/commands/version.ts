import type { Command } from 'commander';
import type { Io } from '../io.js';
import { packageVersion } from '../../version.js';

/** `gossip version`: this build's version. */
export function registerVersion(program: Command, io: Io): void {
  program.command('version').description('print the version').action(() => {
    io.out(`gossip-coordinator v${packageVersion()}`);
  });
}
