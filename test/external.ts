/**
 * Suites that need a program we do not ship (Debian's `serf`, `chromium`) skip loudly when
 * it is missing and cannot be installed. In CI (`REQUIRE_EXTERNAL=1`, set by `.ci/run`) a
 * missing program is a failure instead: nothing is turned off by accident.
 */
export function externalOrSkip(suite: string, program: string, available: boolean, hint: string): boolean {
  if (available) return true;
  const what = `"${suite}": ${program} is not installed and could not be installed (${hint})`;
  if (process.env.REQUIRE_EXTERNAL === '1') throw new Error(`REQUIRE_EXTERNAL=1 and the suite cannot run: ${what}`);
  console.warn(`\n*** SKIPPED ${what} ***\n`);
  return false;
}
