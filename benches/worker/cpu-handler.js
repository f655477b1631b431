// Bench-only worker: runs the CPU path of one follow webhook — signature check on the raw
// bytes, JSON parse, Context, decision + render, decision parse — `n` times in one request,
// so the bench can read workerd's process CPU time around it (Date.now and performance.now do
// not advance during CPU work inside workerd, so in-worker timers cannot measure this).
import { verifySignature } from "../../www/worker/src/signature.js";
import { contextFor } from "../../www/worker/src/worker.js";

export function cpuHandler(makeDecide) {
  let decide;
  return {
    async fetch(request, env) {
      if (request.method !== "POST") return new Response("ok");
      decide ??= makeDecide();
      const { n, body, signature, user } = await request.json();
      const bytes = new TextEncoder().encode(body);
      let segments = 0;
      for (let i = 0; i < n; i++) {
        if (!(await verifySignature(env.LINE_CHANNEL_SECRET, bytes, signature))) return new Response("bad signature", { status: 401 });
        const payload = JSON.parse(new TextDecoder().decode(bytes));
        for (const event of payload.events) {
          const decision = JSON.parse(decide(JSON.stringify(contextFor(user, event))));
          segments += decision.segments.length + (decision.messages?.length ?? 0);
        }
      }
      return Response.json({ n, segments });
    },
  };
}
