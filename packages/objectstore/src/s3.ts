export { S3ObjectStore, type S3Credentials, type S3StoreOptions } from './drivers/s3-store.js';
