// Compiles assembly/ to build/*.wasm with AssemblyScript. Filled in by the codec work.
console.log('[raftwire] build:wasm: nothing to build yet');
