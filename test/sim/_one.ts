import { SimViolation } from './checker.js';
import { runRandom } from './workload.js';
const [seed, amnesia] = [Number(process.argv[2]), process.argv[3] as 'vote' | 'lastEntry' | undefined];
try { console.log(runRandom({ seed, events: Number(process.argv[4] ?? 2000), amnesia })); } catch (e) { console.log((e as Error).message.slice(0, 6000)); }
