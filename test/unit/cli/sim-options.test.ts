import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { fail, parseChoice, printResult, runSeeded } from '../../../src/cli/commands/sim-options.js';
import { UsageError } from '../../../src/cli/parse.js';
import { capture } from './capture.js';

describe('the simulate commands\' shared scaffolding', () => {
  it('parseChoice accepts a listed name and refuses others naming the choices', () => {
    expect(parseChoice('pull', '--mode', ['push', 'pull', 'push-pull'] as const)).toBe('pull');
    expect(() => parseChoice('x', '--mode', ['push', 'pull', 'push-pull'])).toThrow(new UsageError("--mode: expected push, pull or push-pull, got 'x'"));
    expect(() => parseChoice('x', '--m', ['oracle', 'swim'])).toThrow(new UsageError("--m: expected oracle or swim, got 'x'"));
    expect(() => parseChoice('x', '--v', ['a', 'b', 'c', 'd'])).toThrow(new UsageError("--v: expected one of a, b, c, d, got 'x'"));
  });

  it('printResult prints one JSON line with --json, else the rendered lines', () => {
    const io = capture();
    printResult(io, true, { a: 1 }, () => ['never']);
    printResult(io, undefined, { a: 2 }, (r) => [`a is ${r.a}`, 'end']);
    expect(io.stdout).toEqual(['{"a":1}', 'a is 2', 'end']);
  });

  it('runSeeded prints the seed that reproduces a run that throws, and passes the error on', () => {
    const io = capture();
    expect(runSeeded(io, 5, () => 42)).toBe(42);
    expect(io.stderr).toEqual([]);
    expect(() => runSeeded(io, 0x1234, () => {
      throw new Error('invariant broken');
    })).toThrow('invariant broken');
    expect(io.stderr).toEqual(['simulation failed (seed 4660); reproduce with --seed 4660']);
  });

  it('fail says why on stderr and exits 1', () => {
    const io = capture();
    let thrown: unknown;
    try {
      fail(io, 'FAILED (seed 3)', 'gossip.x.failed', 'simulation failed');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(CommanderError);
    expect((thrown as CommanderError).exitCode).toBe(1);
    expect((thrown as CommanderError).code).toBe('gossip.x.failed');
    expect(io.stderr).toEqual(['FAILED (seed 3)']);
  });
});
