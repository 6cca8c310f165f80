// raftwire_native: hardware CRC32C and aligned slab memory for the buffer pool.
//
// The free lists of the pool live in JavaScript (src/codec/buffer-pool.ts): an N-API call costs
// more than a whole JS acquire/release (docs/native.md has the numbers), so the addon only does
// what JS cannot: memory outside V8's heap with a chosen alignment, and the crc32 instruction.
//
// The CRC entry point uses the plain C N-API so a call is exactly one napi_get_cb_info, one
// napi_get_typedarray_info and one napi_create_uint32 (small inputs are dominated by that).

#include <napi.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "crc32c.h"

namespace raftwire {
namespace {

// Bumped when the JS-visible surface changes; src/codec/native.ts refuses a mismatched build.
constexpr uint32_t kAbiVersion = 1;
// A slab is reserved in one piece; a bound keeps a bad option from asking for gigabytes.
constexpr double kSlabBytesMax = 1u << 30;
constexpr size_t kSlabAlignmentBytesMax = 1u << 16;

napi_value ThrowCoded(napi_env env, const char* code, const char* message, bool range) {
  if (range) {
    napi_throw_range_error(env, code, message);
  } else {
    napi_throw_type_error(env, code, message);
  }
  return nullptr;
}

// Reads an optional non-negative integer argument; `fallback` when undefined.
bool ReadIndex(napi_env env, napi_value value, double fallback, double* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_undefined) {
    *out = fallback;
    return true;
  }
  if (type != napi_number) return false;
  double v;
  if (napi_get_value_double(env, value, &v) != napi_ok) return false;
  if (!(v >= 0) || std::floor(v) != v) return false;
  *out = v;
  return true;
}

using CrcKernel = uint32_t (*)(uint32_t, const uint8_t*, size_t);

// crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number
napi_value CrcWith(napi_env env, napi_callback_info info, CrcKernel kernel) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 1) return ThrowCoded(env, "NATIVE_ERR_ARGUMENT", "crc32c: data must be a Uint8Array", false);

  napi_typedarray_type arrayType;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, argv[0], &arrayType, &length, &data, nullptr, nullptr) != napi_ok ||
      (arrayType != napi_uint8_array && arrayType != napi_uint8_clamped_array)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return ThrowCoded(env, "NATIVE_ERR_ARGUMENT", "crc32c: data must be a Uint8Array", false);
  }

  uint32_t crc = 0;
  if (argc >= 2) {
    // Bottom 32 bits of any number, like `crc >>> 0` in the TS reference; undefined means 0.
    napi_status status = napi_get_value_uint32(env, argv[1], &crc);
    if (status != napi_ok) {
      napi_valuetype type;
      napi_typeof(env, argv[1], &type);
      if (type != napi_undefined) {
        return ThrowCoded(env, "NATIVE_ERR_ARGUMENT", "crc32c: crc must be a number", false);
      }
      crc = 0;
    }
  }

  double start = 0;
  double end = static_cast<double>(length);
  if (argc >= 3 && !ReadIndex(env, argv[2], 0, &start)) {
    return ThrowCoded(env, "NATIVE_ERR_RANGE", "crc32c: start must be a non-negative integer", true);
  }
  if (argc >= 4 && !ReadIndex(env, argv[3], static_cast<double>(length), &end)) {
    return ThrowCoded(env, "NATIVE_ERR_RANGE", "crc32c: end must be a non-negative integer", true);
  }
  if (end > static_cast<double>(length) || start > end) {
    return ThrowCoded(env, "NATIVE_ERR_RANGE", "crc32c: need 0 <= start <= end <= data.length", true);
  }

  const uint8_t* bytes = static_cast<const uint8_t*>(data) + static_cast<size_t>(start);
  const uint32_t reg = kernel(~crc, bytes, static_cast<size_t>(end - start));
  napi_value result;
  napi_create_uint32(env, ~reg, &result);
  return result;
}

napi_value Crc32cBest(napi_env env, napi_callback_info info) {
  return CrcWith(env, info, CrcHardwareAvailable() ? CrcHardware : CrcSoftware);
}

napi_value Crc32cSoftware(napi_env env, napi_callback_info info) {
  return CrcWith(env, info, CrcSoftware);
}

void FreeSlab(napi_env /*env*/, void* data, void* /*hint*/) { std::free(data); }

// allocateSlab(bytes: number, alignmentBytes = 64): ArrayBuffer
// Zeroed, aligned memory outside V8's heap, freed when the ArrayBuffer is collected.
napi_value AllocateSlab(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  double bytes = 0;
  if (argc < 1 || !ReadIndex(env, argv[0], 0, &bytes) || bytes < 1 || bytes > kSlabBytesMax) {
    return ThrowCoded(env, "NATIVE_ERR_RANGE", "allocateSlab: bytes must be an integer in [1, 2^30]", true);
  }
  double alignment = 64;
  if (argc >= 2 && !ReadIndex(env, argv[1], 64, &alignment)) {
    return ThrowCoded(env, "NATIVE_ERR_RANGE", "allocateSlab: alignmentBytes must be an integer", true);
  }
  const size_t align = static_cast<size_t>(alignment);
  if (align < sizeof(void*) || align > kSlabAlignmentBytesMax || (align & (align - 1)) != 0) {
    return ThrowCoded(env, "NATIVE_ERR_RANGE",
                      "allocateSlab: alignmentBytes must be a power of two in [8, 65536]", true);
  }
  const size_t size = static_cast<size_t>(bytes);
  void* memory = nullptr;
  if (posix_memalign(&memory, align, size) != 0 || memory == nullptr) {
    napi_throw_error(env, "NATIVE_ERR_OUT_OF_MEMORY", "allocateSlab: out of memory");
    return nullptr;
  }
  std::memset(memory, 0, size);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, size, FreeSlab, nullptr, &buffer) != napi_ok) {
    std::free(memory);
    napi_throw_error(env, "NATIVE_ERR_EXTERNAL_BUFFER",
                     "allocateSlab: this runtime refuses external ArrayBuffers");
    return nullptr;
  }
  return buffer;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Worker threads load the addon once per thread; the tables are process-wide, built once.
  static std::once_flag tablesBuilt;
  std::call_once(tablesBuilt, [] {
    CrcInitTables();
    CrcInitShiftTables();
  });
  napi_value fn;
  napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, Crc32cBest, nullptr, &fn);
  exports.Set("crc32c", Napi::Value(env, fn));
  napi_create_function(env, "crc32cSoftware", NAPI_AUTO_LENGTH, Crc32cSoftware, nullptr, &fn);
  exports.Set("crc32cSoftware", Napi::Value(env, fn));
  napi_create_function(env, "allocateSlab", NAPI_AUTO_LENGTH, AllocateSlab, nullptr, &fn);
  exports.Set("allocateSlab", Napi::Value(env, fn));
  exports.Set("hardwareCrc", Napi::Boolean::New(env, CrcHardwareAvailable()));
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  return exports;
}

}  // namespace
}  // namespace raftwire

// NODE_API_MODULE pastes the name into an identifier, so it must be unqualified.
static Napi::Object InitRaftwireNative(Napi::Env env, Napi::Object exports) {
  return raftwire::Init(env, exports);
}

NODE_API_MODULE(raftwire_native, InitRaftwireNative)
