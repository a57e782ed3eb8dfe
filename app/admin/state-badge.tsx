// An event's state as the merchant reads it, coloured by how much it asks of them, its meaning on hover.
import { Badge } from "@shopify/polaris";
import { EVENT_STATE_INFO, isEventState, type EventState } from "../pipeline/lifecycle";

const STATE_TONES: Record<EventState, "success" | "critical" | "warning" | "attention" | "info"> = {
  sent: "success",
  paused: "critical",
  rejected: "critical",
  invalid: "critical",
  expired: "warning",
  retrying: "attention",
  queued: "info",
  sending: "info",
};

/** A word the app does not know is shown as stored. */
export function StateBadge({ state }: { state: string }) {
  if (!isEventState(state)) return <Badge>{state}</Badge>;
  const { label, meaning } = EVENT_STATE_INFO[state];
  return (
    <span title={meaning}>
      <Badge tone={STATE_TONES[state]}>{label}</Badge>
    </span>
  );
}
