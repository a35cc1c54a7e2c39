import type { DashboardPage } from './http-api.js';

/**
 * The dashboard page from `src/dashboard` (helper B's module): its `dashboardPage()` export,
 * loaded at start so the agent runs whether or not the dashboard is built. Null when absent.
 */
export async function loadDashboard(warn: (line: string) => void = () => undefined): Promise<(() => DashboardPage) | null> {
  const path = '../dashboard/index.js';
  let mod: unknown;
  try {
    mod = await import(path);
  } catch (e) {
    // Absent from this build: no dashboard. Present but broken: say so, and serve the API anyway.
    const code = (e as { code?: unknown }).code;
    const absent = code === 'ERR_MODULE_NOT_FOUND' && e instanceof Error && e.message.includes('dashboard');
    if (!absent) warn(`dashboard not served: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
  const page = (mod as { dashboardPage?: unknown }).dashboardPage;
  return typeof page === 'function' ? (page as () => DashboardPage) : null;
}
