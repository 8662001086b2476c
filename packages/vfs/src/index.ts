export { VfsDriver, type VfsDriverOptions } from './vfs-driver.js';
export { VfsError } from './errors.js';
