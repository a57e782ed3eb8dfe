// .ci/clock-ahead runs the suite under libfaketime (LD_PRELOAD), so that every process it
// starts sees a clock days ahead. The services a test starts for itself (redis-server, a
// PostgreSQL cluster, Chromium) keep the machine's clock instead, as the shared PostgreSQL and
// Redis do: the app must live with services whose clock is not its own. Besides,
// redis-server and Chromium hang under libfaketime, and pg_ctl never returns.
export function machineClockEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of Object.keys(out)) if (name.startsWith("FAKETIME")) delete out[name];
  const preload = (env.LD_PRELOAD ?? "").split(/[:\s]+/).filter((lib) => lib && !lib.includes("faketime"));
  if (preload.length) out.LD_PRELOAD = preload.join(":");
  else delete out.LD_PRELOAD;
  return out;
}
