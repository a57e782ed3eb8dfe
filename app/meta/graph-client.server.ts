// The only place that talks HTTP to Meta's Graph API (or to the stand-in at META_GRAPH_URL).
import type { MetaAnswer } from "./classify";
import type { GraphRequest } from "./request";

export async function sendGraphRequest(request: GraphRequest, timeoutMs = 15_000): Promise<MetaAnswer> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const name = (error as Error).name;
    const timedOut = name === "TimeoutError" || name === "AbortError";
    return { kind: "transport", error: timedOut ? "timeout" : "network", message: (error as Error).message };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { kind: "transport", error: "reset", message: (error as Error).message };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { kind: "response", status: response.status, body };
}
