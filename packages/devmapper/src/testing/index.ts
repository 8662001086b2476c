import { FakeDmApi } from './fake-dm.js';
import { FakeHostOps } from './fake-host.js';
import { FakeKernel } from './fake-kernel.js';

export { FakeDmApi } from './fake-dm.js';
export { FakeHostOps } from './fake-host.js';
export { FakeKernel, type FakeDevice, type FakePool } from './fake-kernel.js';

export interface FakeDevmapper {
  kernel: FakeKernel;
  dm: FakeDmApi;
  host: FakeHostOps;
  cleanup(): Promise<void>;
}

/** A fake kernel with its DmApi and HostOps, for unit tests on machines without device-mapper. */
export async function createFakeDevmapper(): Promise<FakeDevmapper> {
  const kernel = await FakeKernel.create();
  return { kernel, dm: new FakeDmApi(kernel), host: new FakeHostOps(kernel), cleanup: () => kernel.cleanup() };
}
