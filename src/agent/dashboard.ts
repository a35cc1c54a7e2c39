import type { DashboardPage } from './http-api.js';

/**
 * The dashboard page from `src/dashboard` (helper B's module): its `dashboardPage()` export,
 * loaded at start so the agent runs whether or not the dashboard is built. Null when absent.
 */
export async function loadDashboard(): Promise<(() => DashboardPage) | null> {
  const path = '../dashboard/index.js';
  let mod: unknown;
  try {
    mod = await import(path);
  } catch {
    return null;
  }
  const page = (mod as { dashboardPage?: unknown }).dashboardPage;
  return typeof page === 'function' ? (page as () => DashboardPage) : null;
}
