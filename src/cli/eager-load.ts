import { setFlagsFromString } from 'node:v8';

/**
 * Loads a module graph with V8's lazy compilation off, then turns it back on.
 *
 * By default V8 only pre-parses a function when its module loads and compiles it on its first
 * call. An agent meets most of its protocol code for the first time in a join, and in a join
 * storm every agent on the machine does so at the same moment: each function is then parsed a
 * second time and compiled in the middle of the storm. Compiled when loaded, the protocol's code
 * costs about 0.01 s more CPU at start and saves about a quarter of the agent's CPU in a running
 * join (issue 12; README, "Measured against Serf"). Only what `load` imports is compiled this
 * way: modules loaded later (the Yjs endpoint, the dashboard) stay lazy.
 */
export async function loadEagerly<T>(load: () => Promise<T>): Promise<T> {
  setFlagsFromString('--no-lazy');
  try {
    return await load();
  } finally {
    setFlagsFromString('--lazy');
  }
}
