// CRC32C (Castagnoli) kernels: a portable slice-by-8 path and, on x86-64, the SSE4.2 crc32
// instruction. Both take and return the *internal* register (already inverted), so callers
// chain them freely; the inversion at the ends lives in one place (Crc32c in addon.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace raftwire {

// Builds the slice-by-8 tables. Call once before CrcSoftware (the addon does it at load).
void CrcInitTables();

uint32_t CrcSoftware(uint32_t reg, const uint8_t* data, size_t length);

// True when this CPU executes the SSE4.2 crc32 instruction (checked once with cpuid).
bool CrcHardwareAvailable();

// Builds the tables the hardware path uses to fold parallel chains. Call after CrcInitTables.
void CrcInitShiftTables();

// Only call when CrcHardwareAvailable() is true: compiled for SSE4.2 so the addon itself still
// loads on x86-64 CPUs without it. On other architectures it forwards to CrcSoftware.
uint32_t CrcHardware(uint32_t reg, const uint8_t* data, size_t length);

}  // namespace raftwire
