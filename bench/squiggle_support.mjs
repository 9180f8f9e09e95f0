// The support example's production bill in Squiggle 0.10.0, the same 11 PERT estimates
// (as scaled betas) and the same closed form as bench/hand_support.py: the yardstick the
// uncertainty work is measured against (docs/performance.md). Not part of llmarch; to run it:
//
//   mkdir -p /tmp/sq && cp bench/squiggle_support.mjs /tmp/sq && cd /tmp/sq \
//     && npm install @quri/squiggle-lang@0.10.0 && node squiggle_support.mjs 1000000
//
// It prints the monthly total's mean and quantiles (they agree with `llmarch simulate`'s
// within Monte Carlo error) and its own time. Prices come in HAND_PRICES as for the hand script.
import { run } from "@quri/squiggle-lang";
const n = Number(process.argv[2] || 1000000);
const [p4i, p4o, p45i, p45o, pmi, pmo, pe] = (process.env.HAND_PRICES || "3e-05,6e-05,7.5e-05,0.00015,1.5e-07,6e-07,2e-08,0").split(",").map(Number);
const code = `
pert(lo, mode, hi) = lo + (hi - lo) * beta(1 + 4 * (mode - lo) / (hi - lo), 1 + 4 * (hi - mode) / (hi - lo))
tickets = pert(1200, 1450, 1700)
tk = pert(250, 450, 650)
h = pert(250, 450, 650)
ch = pert(200, 300, 400)
s = pert(250, 350, 450)
f1 = pert(0.01, 0.03, 0.05)
f2 = pert(0.005, 0.01, 0.015)
routed = pert(0.05, 0.10, 0.15)
r = pert(0.02, 0.05, 0.08)
e = pert(0.0002, 0.0005, 0.0008)
c = pert(0.10, 0.20, 0.30)
in1 = 300 + tk + h + 4 * ch
in2 = in1 + 400
in3 = s + 200
cost1 = in1 * ${p4i} + s * ${p4o}
cost2 = in2 * ${p45i} + s * ${p45o}
cost3 = in3 * ${pmi} + 20 * ${pmo}
miss = 1 - c
f13 = f1 * f1 * f1
q = (1 - f13) + f13 * (1 - f2)
route = miss / (1 - r * q)
attempts = route * (1 + f1 + f1 * f1)
strong = route * f13
checks = route * q
tokens = miss * tk + attempts * (in1 + s) + strong * (in2 + s) + checks * (in3 + 20)
perRequest = 0.0001 + miss * (tk * ${pe} + 0.0004) + attempts * cost1 + strong * cost2 + checks * cost3 + checks * e * 4.5 + 0.004 + 0.000002 * tokens
monthly = tickets * 30 * perRequest + 1750 + 1200 + 540 + 100000 * 800 * 4.3 * ${pe}
summary = {mean: mean(monthly), p5: inv(monthly, 0.05), p50: inv(monthly, 0.5), p95: inv(monthly, 0.95), p99: inv(monthly, 0.99)}
`;
const t = performance.now();
const out = await run(code, { environment: { sampleCount: n, xyPointLength: 1000, seed: "0" } });
const elapsed = (performance.now() - t) / 1000;
if (!out.result.ok) { console.error(out.result.value.toString()); process.exit(1); }
const bindings = out.result.value.bindings;
console.log(bindings.get("summary").toString(), `${elapsed.toFixed(3)} s`);
