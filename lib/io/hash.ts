/**
 * The two hashes the project uses: {@link hash32} (FNV-1a, for seeds and fingerprints; stable
 * across versions, so journals and emulator state keep matching) and {@link sha256Hex} (content
 * digests of files and datasets, by Web Crypto).
 *
 * @module
 */

/** FNV-1a 32-bit hash of a string, as an unsigned integer. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** SHA-256 of some bytes, as lower-case hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
