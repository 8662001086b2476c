import { redactUrl } from '@convoy/errors';

/**
 * A URL to print: unchanged (scripts pass it on byte for byte) unless it holds a secret, which
 * redactUrl masks.
 */
export function printableUrl(url: string): string {
  const redacted = redactUrl(url);
  return redacted.includes('***') ? redacted : url;
}
