import { stopServices } from '../../tools/dev/services';

export default async function globalTeardown(): Promise<void> {
  await stopServices((globalThis as { __servicePids?: number[] }).__servicePids ?? []);
}
