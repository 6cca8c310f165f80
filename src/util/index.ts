export { type Clock, type TimerHandle, systemClock, VirtualClock } from './clock.js';
export { Prng } from './prng.js';
export { MinHeap } from './min-heap.js';
export { sameBytes } from './bytes.js';
export { Slab } from './slab.js';
