// bench/cluster-wrk.ts reads latency percentiles from wrk's output; a "+/- Stdev" column ending
// in "50%" once passed for the p50 and made it NaN.
import { describe, expect, it } from 'vitest';
import { percentile } from '../../bench/cluster-wrk.js';

const out = `Running 15s test @ http://127.0.0.1:8001
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.52ms    9.31ms  98.12ms   96.50%
    Req/Sec     6.75k   812.33     8.10k    75.50%
  Latency Distribution
     50%    3.97ms
     75%    5.10ms
     90%    7.44ms
     99%   70.75ms
  100813 requests in 15.00s, 9.33MB read
Requests/sec:   6720.51
`;

describe('wrk output', () => {
  it('takes percentiles from the Latency Distribution lines, not from a Stdev column', () => {
    expect(percentile(out, 50)).toBeCloseTo(3.97);
    expect(percentile(out, 99)).toBeCloseTo(70.75);
  });

  it('reads microseconds and seconds', () => {
    expect(percentile('  Latency Distribution\n     50%  812.00us\n     99%    1.20s\n', 50)).toBeCloseTo(0.812);
    expect(percentile('  Latency Distribution\n     50%  812.00us\n     99%    1.20s\n', 99)).toBeCloseTo(1200);
  });
});
