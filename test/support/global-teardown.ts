import { stopServices } from '../../src/devtools/services';

export default async function globalTeardown(): Promise<void> {
  stopServices((globalThis as { __servicePids?: number[] }).__servicePids ?? []);
}
