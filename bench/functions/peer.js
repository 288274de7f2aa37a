// The Node.js peers of bench/functions.sh, for the same function file:
//   node peer.js vm FILE.js SECONDS       vm.runInNewContext in a warm process, per invocation
//   node peer.js process FILE.js COUNT    a fresh `node` process per invocation (the model of
//                                         Chainlink's functions-toolkit simulator)
// The module's `export default` becomes the script's completion value, so both peers run the
// exact code neosl runs. Prints one JSON line: {"measure", "p50_us", "p99_us", "per_second", "n"}.
'use strict';
const fs = require('fs');
const vm = require('vm');
const { spawnSync } = require('child_process');

const [mode, file, amount] = process.argv.slice(2);
const source = fs.readFileSync(file, 'utf8').replace(/export\s+default\s+/, 'globalThis.__fn = ');
const request = { args: [1, 2, 3], trigger: 'api' };
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
const report = (measure, us, seconds) => {
  us.sort((a, b) => a - b);
  console.log(JSON.stringify({ measure, p50_us: +pct(us, 0.5).toFixed(1), p99_us: +pct(us, 0.99).toFixed(1),
                               per_second: Math.round(us.length / seconds), n: us.length }));
};

async function runVm(seconds) {
  const script = new vm.Script(source + '\n;__fn');  // compiled once, as neosl caches a version
  const us = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end) {
    const t0 = process.hrtime.bigint();
    const fn = script.runInNewContext({ console });  // a fresh context per invocation
    JSON.stringify(await fn(request, {}));
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  report('node_vm_warm', us, Number(process.hrtime.bigint() - start) / 1e9);
}

function runProcess(count) {
  const child = source + '\n;Promise.resolve(__fn(' + JSON.stringify(request) + ', {}))' +
                '.then((r) => process.stdout.write(JSON.stringify(r)));';
  const us = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8' });
    if (r.status !== 0 || !r.stdout) throw new Error('node child failed: ' + r.stderr);
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  report('node_process_per_invocation', us, Number(process.hrtime.bigint() - start) / 1e9);
}

if (mode === 'vm') runVm(Number(amount || 3));
else if (mode === 'process') runProcess(Number(amount || 30));
else { console.error('usage: node peer.js vm|process FILE.js [seconds|count]'); process.exit(2); }
