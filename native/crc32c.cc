#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define RAFTWIRE_X86_64 1
#include <nmmintrin.h>
#endif

namespace raftwire {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli
uint32_t tables[8][256];

inline uint32_t LoadLittle32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);  // unaligned-safe; compiles to one load on x86 and arm64
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

}  // namespace

void CrcInitTables() {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    tables[0][n] = c;
  }
  // tables[k][n]: CRC of byte n followed by k zero bytes, so eight bytes fold in one step.
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = tables[0][n];
    for (int k = 1; k < 8; k++) {
      c = tables[0][c & 0xFF] ^ (c >> 8);
      tables[k][n] = c;
    }
  }
}

uint32_t CrcSoftware(uint32_t reg, const uint8_t* data, size_t length) {
  const uint8_t* p = data;
  const uint8_t* end = data + length;
  while (end - p >= 8) {
    const uint32_t lo = reg ^ LoadLittle32(p);
    const uint32_t hi = LoadLittle32(p + 4);
    reg = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^
          tables[4][lo >> 24] ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^
          tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
    p += 8;
  }
  while (p < end) reg = tables[0][(reg ^ *p++) & 0xFF] ^ (reg >> 8);
  return reg;
}

#if defined(RAFTWIRE_X86_64)

bool CrcHardwareAvailable() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

__attribute__((target("sse4.2"))) uint32_t CrcHardware(uint32_t reg, const uint8_t* data,
                                                       size_t length) {
  const uint8_t* p = data;
  const uint8_t* end = data + length;
  // Reach 8-byte alignment first: aligned 64-bit loads never straddle a cache line.
  while (p < end && (reinterpret_cast<uintptr_t>(p) & 7) != 0) reg = _mm_crc32_u8(reg, *p++);
  uint64_t reg64 = reg;
  while (end - p >= 32) {
    uint64_t w0, w1, w2, w3;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    std::memcpy(&w2, p + 16, 8);
    std::memcpy(&w3, p + 24, 8);
    reg64 = _mm_crc32_u64(reg64, w0);
    reg64 = _mm_crc32_u64(reg64, w1);
    reg64 = _mm_crc32_u64(reg64, w2);
    reg64 = _mm_crc32_u64(reg64, w3);
    p += 32;
  }
  while (end - p >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    reg64 = _mm_crc32_u64(reg64, w);
    p += 8;
  }
  reg = static_cast<uint32_t>(reg64);
  while (p < end) reg = _mm_crc32_u8(reg, *p++);
  return reg;
}

#else

bool CrcHardwareAvailable() { return false; }

uint32_t CrcHardware(uint32_t reg, const uint8_t* data, size_t length) {
  return CrcSoftware(reg, data, length);
}

#endif

}  // namespace raftwire
