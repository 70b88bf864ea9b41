import { stopServices } from '../../tools/dev/services';

export default async function globalTeardown(): Promise<void> {
  stopServices((globalThis as { __servicePids?: number[] }).__servicePids ?? []);
}
