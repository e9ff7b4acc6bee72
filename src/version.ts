/** Kept in step with package.json by the release process (read at build time would cost a file read). */
export const VERSION = '0.1.0';
