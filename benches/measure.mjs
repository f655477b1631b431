// Shared by the Node benches. Rounds interleave the engines (one pass of each per round) and
// keep each engine's best pass, so drift in machine load hits every engine alike instead of
// whichever ran last. Returns items per second for each engine (`perInput` items per input).
export function measureAll(set, inputs, rounds, perInput = 1) {
  const best = Object.fromEntries(Object.keys(set).map((name) => [name, Infinity]));
  let sink = 0;
  for (const run of Object.values(set)) for (const x of inputs) sink += run(x).length; // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(set)) {
      const t0 = process.hrtime.bigint();
      for (const x of inputs) sink += run(x).length;
      best[name] = Math.min(best[name], Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  if (sink < 0) console.log(sink); // keeps the work observable
  return Object.fromEntries(Object.entries(best).map(([name, s]) => [name, (inputs.length * perInput) / s]));
}
