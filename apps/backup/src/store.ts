import { openStore, s3EndpointProblem, type ObjectStore, type S3StoreOptions } from '@convoy/objectstore';
import { usageError } from '@convoy/cli-kit';

/**
 * S3 settings from the command line and the environment: the endpoint from --s3-endpoint, else
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 * (/ AWS_SESSION_TOKEN) when both are set, else the SDK's default chain (profiles, instance roles).
 */
export function s3Options(endpointFlag: string | undefined, env: Readonly<Record<string, string | undefined>>): S3StoreOptions {
  const options: S3StoreOptions = {};
  const endpoint = nonEmpty(endpointFlag) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined) options.endpoint = checkEndpoint(endpoint, endpointFlag !== undefined);
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
    options.credentials = { accessKeyId, secretAccessKey, sessionToken };
  }
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined) options.region = region;
  return options;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function checkEndpoint(endpoint: string, fromFlag: boolean): string {
  const problem = s3EndpointProblem(endpoint);
  if (problem !== undefined) {
    throw usageError(
      `invalid S3 endpoint${fromFlag ? '' : ' (from AWS_ENDPOINT_URL)'}: ${problem}`,
      'give an http(s) URL without credentials, e.g. --s3-endpoint http://127.0.0.1:7480',
    );
  }
  return endpoint;
}

/**
 * Opens the store a URL names (query parameters are ignored). Parses the URL first, so a bad URL
 * fails before anything is touched. With `create: false`, a vfs directory that does not exist is
 * CONVOY_STORE_NOT_FOUND rather than silently created.
 */
export function openStoreAt(url: string, options: { create: boolean; s3: S3StoreOptions }): Promise<ObjectStore> {
  return openStore(url, { s3: options.s3, create: options.create });
}
