// One form of the Settings page posting to its action (app/admin/actions.server.ts): its busy
// state, its field errors, and its success said in an App Bridge toast (inline without App Bridge).
import { useEffect, useRef, useState } from "react";
import { useFetcher } from "@remix-run/react";
import type { ActionResult, Intent } from "./actions.server";
import { showToast } from "./app-bridge";

/**
 * `key`: one per form when a page holds several of one intent (a card per pixel). `say`: false
 * when the form goes away with its success (a pixel added or removed: its card is replaced), so
 * the page, which stays, says it with the same key.
 */
export function useActionResult(intent: Intent, key: string = intent, say = true) {
  const fetcher = useFetcher<ActionResult>({ key });
  const result = fetcher.data && fetcher.data.intent === intent ? fetcher.data : undefined;
  const message = result && result.ok ? result.message : undefined;
  const [inlineMessage, setInlineMessage] = useState<string | undefined>();
  // Each answer is said once: not again when the page comes back with the fetcher's last answer.
  const said = useRef(fetcher.data);

  useEffect(() => {
    if (fetcher.state !== "idle" || !fetcher.data || fetcher.data === said.current) return;
    said.current = fetcher.data;
    if (say) setInlineMessage(message && !showToast(message) ? message : undefined);
  }, [fetcher.state, fetcher.data, message, say]);

  return {
    fetcher,
    busy: fetcher.state !== "idle",
    fieldErrors: (result && !result.ok ? result.fieldErrors : {}) as Record<string, string>,
    formError: result && !result.ok ? result.formError : undefined,
    /** Said in a toast; here only when App Bridge could not show it. */
    message: result && result.ok ? inlineMessage : undefined,
    /** Whether the last answer was a success (the message may be in a toast). */
    saved: Boolean(message),
    warning: result && result.ok ? result.warning : undefined,
  };
}
