// Lets Node run the workspace packages' TypeScript sources directly (no build): preload it with
//   node --conditions=@convoy/source --import ./tools/source-resolve.ts apps/daemon/src/main.ts
//
// Node 24 strips types from .ts files, and `--conditions=@convoy/source` makes
// `@convoy/objectstore` resolve to packages/objectstore/src/index.ts. But the sources import each
// other as './errors.js' (the NodeNext convention, which tsc maps to errors.ts), and Node does no
// such mapping: it throws ERR_MODULE_NOT_FOUND. This hook retries such a relative `.js` import
// from a `.ts` file as `.ts`. Nothing else is changed.
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
