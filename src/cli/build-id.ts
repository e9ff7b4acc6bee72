/**
 * Which build of the CLI this is: a digest of the sources and locked dependencies it was bundled from,
 * written in by scripts/bundle-cli.mjs. Undefined when the code runs unbundled (the library, tests run
 * from source): nothing then names the code exactly, so nothing that depends on it (the parse cache) is
 * kept.
 */
declare const __AGENTCTL_BUILD_ID__: string | undefined;

export const BUILD_ID: string | undefined =
  typeof __AGENTCTL_BUILD_ID__ === 'string' ? __AGENTCTL_BUILD_ID__ : undefined;
