// What goes into `Err`: Docker prints it to the user, so it carries a ConvoyError's message and
// hint, never a stack, and URLs in it lose their credentials.
import { ConvoyError, redactUrl } from '@convoy/errors';

/** Longest `Err` sent; Docker shows it on one line. */
export const MAX_ERR_LENGTH = 2000;

const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
// Control characters (a NUL in a name, escape sequences) do not belong on the user's terminal.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function errMessage(error: unknown): string {
  let text: string;
  if (error instanceof ConvoyError) {
    text = error.hint ? `${error.message} (${error.hint})` : error.message;
  } else if (error instanceof Error) {
    text = `internal error: ${error.message || error.name}`;
  } else {
    text = 'internal error';
  }
  const clean = text.replace(URL_IN_TEXT, (url) => redactUrl(url)).replace(CONTROL, ' ');
  return clean.length > MAX_ERR_LENGTH ? `${clean.slice(0, MAX_ERR_LENGTH - 1)}…` : clean;
}
