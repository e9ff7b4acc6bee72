/**
 * Just enough of the ustar format to take one regular file out of the archive the engine returns for
 * `GET /containers/{id}/archive` (a single path), without another dependency.
 */
const BLOCK = 512;

export function firstFileInTar(tar: Buffer): Buffer | undefined {
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return undefined; // end of archive
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const dataStart = offset + BLOCK;
    if (type === '0' || type === '\0') return Buffer.from(tar.subarray(dataStart, dataStart + size));
    // Skip pax/GNU headers, directories, links: data blocks are padded to whole blocks.
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}
