{
  "targets": [
    {
      "target_name": "raftwire_native",
      "sources": ["native/addon.cc", "native/crc32c.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-O2"],
      "cflags_cc!": ["-O2"],
      "cflags": ["-O3"],
      "cflags_cc": ["-O3", "-std=c++17", "-Wall", "-Wextra"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "Optimization": 2 }
      }
    }
  ]
}
