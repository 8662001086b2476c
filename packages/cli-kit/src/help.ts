/**
 * A command's examples as help text (for yargs' .epilogue()). yargs' own .example() puts command
 * and description in two columns, which breaks long command lines mid-word at any terminal width;
 * this keeps each command line whole, under its description.
 */
export function examples(list: readonly (readonly [command: string, description: string])[]): string {
  return ['Examples:', ...list.flatMap(([command, description]) => [`  ${description}:`, `    $ ${command}`])].join('\n');
}
