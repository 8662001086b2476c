/** The S3 server the test run started (tools/vitest/s3-global-setup.ts), read from the environment. */
export interface S3TestEnvironment {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The test S3 endpoint and credentials, or undefined when none was started. Under CI=true a
 * missing endpoint throws: with CI nothing may skip.
 */
export function s3TestEnvironment(): S3TestEnvironment | undefined {
  const endpoint = process.env.CONVOY_TEST_S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') {
    if (process.env.CI === 'true') throw new Error('CI=true but no test S3 endpoint: the radosgw global setup did not run');
    return undefined;
  }
  return {
    endpoint,
    accessKeyId: process.env.CONVOY_TEST_S3_ACCESS_KEY ?? 'AKTEST',
    secretAccessKey: process.env.CONVOY_TEST_S3_SECRET_KEY ?? 'SKTEST',
  };
}
