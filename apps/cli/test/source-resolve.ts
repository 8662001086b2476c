// Lets Node run our TypeScript sources (no build) in a child process, for tests:
//   node --conditions=@convoy/source --import ./test/source-resolve.ts script.ts
//
// Node 24 strips types from .ts files and `--conditions=@convoy/source` resolves our packages to
// their src/index.ts, but the sources import each other as './x.js' (the NodeNext convention that
// tsc maps to x.ts) and Node does no such mapping. This hook retries a relative `.js` import made
// from a `.ts` file as `.ts`; nothing else changes.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const fromTs = context.parentURL?.startsWith('file:') === true && context.parentURL.endsWith('.ts');
      const relativeJs = (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js');
      if (!fromTs || !relativeJs || (err as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
      return nextResolve(`${specifier.slice(0, -'.js'.length)}.ts`, context);
    }
  },
});
