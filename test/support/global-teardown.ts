import { stopServices } from '../../tools/dev/services';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __servicePids?: number[]; __stopCluster?: () => Promise<void> };
  await g.__stopCluster?.();
  await stopServices(g.__servicePids ?? []);
}
