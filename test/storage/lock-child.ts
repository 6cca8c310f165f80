// Opens the log in argv[2], prints "open", and holds it until killed (the lock test's other process).
import { LmdbLogStore } from '../../src/storage/index.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: lock-child <dir>');
const store = await LmdbLogStore.open(path);
await store.append([{ index: 1, term: 1, type: 'normal', data: new Uint8Array([1, 2, 3]) }]);
process.stdout.write('open\n');
setInterval(() => {}, 1 << 30);
