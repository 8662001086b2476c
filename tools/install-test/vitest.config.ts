// tools/install.sh into a throw-away root (DESTDIR): its own stage of tools/test-all.sh, after the
// build (it installs the dist/ the build wrote). The real `systemctl start convoy` runs in the qemu
// guest under systemd (systemd-guest.sh), another stage.
import { defineConfig } from 'vitest/config';
import { packageConfig } from '../vitest/project-defaults.js';

const base = packageConfig(import.meta.dirname);

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
