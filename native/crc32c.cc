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

namespace {

// The crc32 instruction has a latency of ~3 cycles but a throughput of one per cycle, so one
// dependency chain leaves two thirds of the unit idle. Long inputs run three chains over three
// adjacent blocks of kStrideBytes and fold them together: the register after block A then block B
// is Shift(A) ^ B0, where B0 is B's register started from 0 and Shift appends kStrideBytes zero
// bytes. Shift is linear over GF(2), so it is four table lookups.
constexpr size_t kStrideBytes = 1024;
uint32_t shiftTables[4][256];

uint32_t ShiftSlow(uint32_t reg) {
  static const uint8_t zeros[kStrideBytes] = {};
  return CrcSoftware(reg, zeros, kStrideBytes);
}

inline uint32_t Shift(uint32_t reg) {
  return shiftTables[0][reg & 0xFF] ^ shiftTables[1][(reg >> 8) & 0xFF] ^ shiftTables[2][(reg >> 16) & 0xFF] ^
         shiftTables[3][reg >> 24];
}

__attribute__((target("sse4.2"))) inline uint32_t HardwareChain(uint32_t reg, const uint8_t* p, size_t length) {
  uint64_t reg64 = reg;
  const uint8_t* end = p + length;
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

}  // namespace

bool CrcHardwareAvailable() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

void CrcInitShiftTables() {
  // Shift of each single bit, then every byte value as the XOR of its bits (linearity).
  uint32_t bit[32];
  for (int b = 0; b < 32; b++) bit[b] = ShiftSlow(1u << b);
  for (int k = 0; k < 4; k++) {
    for (uint32_t n = 0; n < 256; n++) {
      uint32_t v = 0;
      for (int b = 0; b < 8; b++) {
        if (n & (1u << b)) v ^= bit[k * 8 + b];
      }
      shiftTables[k][n] = v;
    }
  }
}

__attribute__((target("sse4.2"))) uint32_t CrcHardware(uint32_t reg, const uint8_t* data,
                                                       size_t length) {
  const uint8_t* p = data;
  const uint8_t* end = data + length;
  // Reach 8-byte alignment first: aligned 64-bit loads never straddle a cache line.
  while (p < end && (reinterpret_cast<uintptr_t>(p) & 7) != 0) reg = _mm_crc32_u8(reg, *p++);
  while (static_cast<size_t>(end - p) >= 3 * kStrideBytes) {
    uint64_t a = reg, b = 0, c = 0;
    for (size_t i = 0; i < kStrideBytes; i += 8) {
      uint64_t wa, wb, wc;
      std::memcpy(&wa, p + i, 8);
      std::memcpy(&wb, p + kStrideBytes + i, 8);
      std::memcpy(&wc, p + 2 * kStrideBytes + i, 8);
      a = _mm_crc32_u64(a, wa);
      b = _mm_crc32_u64(b, wb);
      c = _mm_crc32_u64(c, wc);
    }
    reg = Shift(Shift(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b)) ^ static_cast<uint32_t>(c);
    p += 3 * kStrideBytes;
  }
  return HardwareChain(reg, p, static_cast<size_t>(end - p));
}

#else

bool CrcHardwareAvailable() { return false; }

void CrcInitShiftTables() {}

uint32_t CrcHardware(uint32_t reg, const uint8_t* data, size_t length) {
  return CrcSoftware(reg, data, length);
}

#endif

}  // namespace raftwire
