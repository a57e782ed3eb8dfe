// An event's state as the merchant reads it, coloured by how much it asks of them.
import { Badge } from "@shopify/polaris";
import { STATE_LABELS } from "./options";

export function StateBadge({ state }: { state: string }) {
  const tone =
    state === "sent"
      ? "success"
      : state === "paused" || state === "rejected"
        ? "critical"
        : state === "expired"
          ? "warning"
          : state === "retrying"
            ? "attention"
            : state === "queued" || state === "sending"
              ? "info"
              : undefined;
  return <Badge tone={tone}>{STATE_LABELS[state] ?? state}</Badge>;
}
