// Builds the native addon with node-gyp. Filled in by the native work.
console.log('[raftwire] build:native: nothing to build yet');
