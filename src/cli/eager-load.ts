import { setFlagsFromString } from 'node:v8';

/**
 * Loads a module graph with V8's lazy compilation off, then turns it back on.
 *
 * By default V8 only pre-parses a function when its module loads and compiles it on its first
 * call. An agent meets most of its protocol code for the first time in a join, and in a join
 * storm every agent on the machine does so at the same moment: each function is then parsed a
 * second time and compiled in the middle of the storm. Compiled when loaded, the protocol's code
 * (the runtime and the core under it) costs 0.02–0.05 s more CPU at start and saves about a
 * quarter of the agents' CPU in a running join (issue 12; README, "Measured against Serf"); the
 * whole library compiled so would cost 0.07–0.12 s more, too near the 0.3 s start-up budget. Only what
 * `load` imports is compiled this way: modules loaded later stay lazy.
 */
export async function loadEagerly<T>(load: () => Promise<T>): Promise<T> {
  setFlagsFromString('--no-lazy');
  try {
    return await load();
  } finally {
    setFlagsFromString('--lazy');
  }
}
