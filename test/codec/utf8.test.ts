import { describe, expect, it } from 'vitest';
import { CodecError } from '../../src/codec/errors.js';
import { readUtf8, Utf8Cache, utf8Length, writeUtf8 } from '../../src/codec/utf8.js';

const reference = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** `text` encoded at offset 3 of a larger buffer, so ranges that do not start at 0 are exercised. */
function embedded(text: string): { bytes: Uint8Array; start: number; end: number } {
  const raw = encode(text);
  const bytes = new Uint8Array(raw.length + 6).fill(0x7a);
  bytes.set(raw, 3);
  return { bytes, start: 3, end: 3 + raw.length };
}

describe('readUtf8', () => {
  it('decodes ASCII of every length across the fast paths (concatenation, native, TextDecoder)', () => {
    for (let length = 0; length <= 80; length++) {
      const text = Array.from({ length }, (_, i) => String.fromCharCode(0x21 + ((i * 7) % 94))).join('');
      const { bytes, start, end } = embedded(text);
      expect(readUtf8(bytes, start, end)).toBe(text);
    }
  });

  it('decodes non-ASCII text at every length, as TextDecoder does', () => {
    for (let length = 1; length <= 70; length++) {
      const text = 'é'.repeat(length % 3) + 'k'.repeat(length) + '€';
      const { bytes, start, end } = embedded(text);
      expect(readUtf8(bytes, start, end)).toBe(reference.decode(bytes.subarray(start, end)));
    }
  });

  it('refuses invalid UTF-8 with CODEC_ERR_MALFORMED on both sides of the native threshold', () => {
    for (const length of [1, 5, 8, 9, 20, 64, 65, 100]) {
      const bytes = new Uint8Array(length).fill(0x61);
      bytes[length - 1] = 0xff;
      const error = (() => {
        try {
          readUtf8(bytes, 0, length);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).code).toBe('CODEC_ERR_MALFORMED');
    }
  });

  it('round-trips with writeUtf8', () => {
    for (const text of ['', 'n1', 'a client id of thirty-six characters', 'ключ', '鍵🔑']) {
      const out = new Uint8Array(utf8Length(text));
      writeUtf8(text, out.length, out, 0);
      expect(readUtf8(out, 0, out.length)).toBe(text);
    }
  });
});

describe('Utf8Cache', () => {
  it('gives the same text for the same bytes, wherever they sit', () => {
    const cache = new Utf8Cache(8, 64);
    const id = '3f2b9a4e-5c1d-4e2a-9b7f-0a1b2c3d4e5f';
    const first = embedded(id);
    const again = encode(id);
    expect(cache.read(first.bytes, first.start, first.end)).toBe(id);
    expect(cache.read(again, 0, again.length)).toBe(id);
  });

  it('keeps a copy: changing the source bytes afterwards does not change what the cache answers', () => {
    const cache = new Utf8Cache(4, 64);
    const bytes = encode('client-a');
    expect(cache.read(bytes, 0, bytes.length)).toBe('client-a');
    bytes[7] = 0x62; // the same buffer now holds client-b
    expect(cache.read(bytes, 0, bytes.length)).toBe('client-b');
  });

  it('answers right when many strings share few slots', () => {
    const cache = new Utf8Cache(2, 64);
    const ids = Array.from({ length: 50 }, (_, i) => `client-${i}`);
    for (let round = 0; round < 3; round++) {
      for (const id of ids) {
        const bytes = encode(id);
        expect(cache.read(bytes, 0, bytes.length)).toBe(id);
      }
    }
  });

  it('decodes strings longer than bytesMax every time, and non-ASCII ones as TextDecoder does', () => {
    const cache = new Utf8Cache(16, 8);
    for (const text of ['a-rather-long-id', 'ключ', '鍵🔑']) {
      const bytes = encode(text);
      expect(cache.read(bytes, 0, bytes.length)).toBe(text);
      expect(cache.read(bytes, 0, bytes.length)).toBe(text);
    }
  });

  it('refuses invalid UTF-8 and does not remember it', () => {
    const cache = new Utf8Cache(1, 64);
    const bad = new Uint8Array([0x61, 0xc3]);
    expect(() => cache.read(bad, 0, 2)).toThrow(CodecError);
    expect(() => cache.read(bad, 0, 2)).toThrow(CodecError);
    const good = encode('ok');
    expect(cache.read(good, 0, 2)).toBe('ok');
  });

  it('needs a power of two of slots', () => {
    expect(() => new Utf8Cache(3, 8)).toThrow(RangeError);
    expect(() => new Utf8Cache(0, 8)).toThrow(RangeError);
  });
});
