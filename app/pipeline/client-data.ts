// The buyer's IP address and user agent are the only raw personal data an event holds (Meta
// takes them only in clear). They are kept while the event may still be sent and dropped once
// it was sent or never can be, with a note naming the keys that were there, so that match-key
// coverage stays countable. Pure: ingest applies it to events stored final on arrival, and the
// SQL of ./event-store.server.ts (outcomes, retention) is written from the same keys and words.
import type { Note } from "../events/outcome";
import type { MetaEvent } from "../meta/event";

export const CLIENT_KEYS = ["client_ip_address", "client_user_agent"] as const;

/** The note's message before the keys removed, comma-separated in alphabetical order. */
export const CLIENT_DATA_REMOVED = "removed from the stored payload once the event was past sending: ";

/** The event without the buyer's IP and user agent, and the notes with the one saying so (unchanged when it had neither). */
export function withoutClientData(event: MetaEvent, notes: Note[]): { event: MetaEvent; notes: Note[] } {
  const present = CLIENT_KEYS.filter((key) => event.user_data[key] !== undefined).sort();
  if (present.length === 0) return { event, notes };
  const userData = { ...event.user_data };
  for (const key of present) delete userData[key];
  return {
    event: { ...event, user_data: userData },
    notes: [...notes, { code: "client_data_removed", message: CLIENT_DATA_REMOVED + present.join(", ") }],
  };
}
