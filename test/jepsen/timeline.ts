/**
 * Draws the failing window of a history as an HTML timeline, one row per client, each operation a
 * bar from invocation to completion (open-ended when it never completed), the operations the
 * checker could not place in red. Self-contained: no scripts, no external files.
 */
import { kvModel } from './kv-model.js';
import type { Operation, Verdict } from './linearizability.js';

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderTimeline(history: readonly Operation[], verdict: Verdict): string {
  const sections = verdict.failures.map((failure) => {
    const blocked = new Set(failure.blocked);
    const involved = [...failure.longestLinearized.slice(-20), ...failure.blocked];
    const start = Math.min(...involved.map((op) => op.invokeMs)) - 50;
    const finite = involved.map((op) => (Number.isFinite(op.returnMs) ? op.returnMs : op.invokeMs + 200));
    const end = Math.max(...finite) + 50;
    const window = history.filter((op) => op.input.key === failure.key && op.invokeMs <= end && (op.returnMs >= start));
    const clients = [...new Set(window.map((op) => op.clientId))].sort((a, b) => a - b);
    const x = (t: number) => ((Math.min(t, end) - start) / (end - start)) * 100;
    const rows = clients.map((client) => {
      const bars = window
        .filter((op) => op.clientId === client)
        .map((op) => {
          const left = x(op.invokeMs);
          const width = Math.max(0.5, x(Number.isFinite(op.returnMs) ? op.returnMs : end) - left);
          const cls = blocked.has(op) ? 'bad' : op.output === undefined ? 'unknown' : 'ok';
          const label = escape(kvModel.describe(op.input, op.output));
          return `<div class="op ${cls}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%" title="${label} [${op.invokeMs.toFixed(1)}–${Number.isFinite(op.returnMs) ? op.returnMs.toFixed(1) : '∞'} ms]">${label}</div>`;
        })
        .join('');
      return `<div class="row"><div class="client">client ${client}</div><div class="lane">${bars}</div></div>`;
    });
    return `<h2>key ${escape(JSON.stringify(failure.key))}: not linearizable</h2><p>${start.toFixed(1)}–${end.toFixed(1)} ms; red: operations that could not be placed next</p>${rows.join('')}`;
  });
  return `<!doctype html><meta charset="utf-8"><title>raftwire: linearizability failure</title>
<style>body{font:13px system-ui;margin:20px}.row{display:flex;align-items:center;margin:4px 0}.client{width:80px}.lane{position:relative;flex:1;height:22px;background:#f4f4f4}
.op{position:absolute;top:2px;height:18px;overflow:hidden;white-space:nowrap;font-size:11px;border-radius:3px;padding:0 3px;box-sizing:border-box}
.ok{background:#9cd49c}.unknown{background:#ddd;border:1px dashed #888}.bad{background:#f08080}</style>
<h1>Linearizability failure</h1>${sections.join('')}`;
}
