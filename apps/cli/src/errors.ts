import { InterruptedError as CliInterruptedError } from '@convoy/cli-kit';

/** The abort reason main.ts gives the AbortController when a signal arrives. */
export class InterruptedError extends CliInterruptedError {
  constructor(signal: string, exitCode: number) {
    super(signal, exitCode, {
      message: 'the connection to convoy-daemon was closed, which stops the operation',
      hint: 'check the result with `convoy list` or `convoy snapshot list`; an interrupted backup leaves the store consistent and the next one reuses its blocks',
    });
  }
}
