// The Events page's filters and search: what they hold comes from the URL's query, and applying
// them writes the query back (app/routes/app.events.tsx), so the back button undoes a change.
// Enter in any field applies them. Each field says what was wrong with the value it was given.
import { useState } from "react";
import { Button, Form, FormLayout, InlineStack, Select, Text, TextField } from "@shopify/polaris";
import { EVENT_NAMES, SEARCH_MAX } from "./event-filter";
import { EVENT_STATE_INFO, EVENT_STATES } from "../pipeline/lifecycle";

type Field = "state" | "event" | "destination" | "from" | "to" | "q";
const FIELDS: Field[] = ["state", "event", "destination", "from", "to", "q"];

export function EventFilters({
  query,
  pixels,
  errors,
  busy,
  onApply,
}: {
  /** The filter shown, as a query string. */
  query: string;
  pixels: Array<{ id: string; name: string }>;
  errors: Partial<Record<string, string>>;
  busy: boolean;
  onApply: (query: string) => void;
}) {
  const initial = new URLSearchParams(query);
  const [values, setValues] = useState<Record<Field, string>>(
    () => Object.fromEntries(FIELDS.map((f) => [f, initial.get(f) ?? ""])) as Record<Field, string>,
  );
  const set = (field: Field) => (value: string) => setValues((v) => ({ ...v, [field]: value }));
  const apply = () => {
    const params = new URLSearchParams();
    for (const f of FIELDS) if (values[f].trim()) params.set(f, values[f].trim());
    onApply(params.toString());
  };
  const anything = FIELDS.some((f) => initial.get(f));
  return (
    <Form onSubmit={apply}>
      <FormLayout>
        <TextField
          label="Search"
          placeholder="Order name (#1001), order id or checkout token"
          value={values.q}
          onChange={set("q")}
          maxLength={SEARCH_MAX}
          autoComplete="off"
          clearButton
          onClearButtonClick={() => set("q")("")}
          error={errors.q}
        />
        {/* Side by side on a wide screen, one under the other on a phone (their labels stay whole). */}
        <FormLayout.Group>
          <Select
            label="State"
            options={[
              { label: "All states", value: "" },
              ...EVENT_STATES.map((s) => ({ label: EVENT_STATE_INFO[s].label, value: s })),
            ]}
            value={values.state}
            onChange={set("state")}
            error={errors.state}
          />
          <Select
            label="Event"
            options={[{ label: "All events", value: "" }, ...EVENT_NAMES.map((n) => ({ label: n, value: n }))]}
            value={values.event}
            onChange={set("event")}
            error={errors.event}
          />
          <Select
            label="Pixel"
            options={[{ label: "All pixels", value: "" }, ...pixels.map((p) => ({ label: p.name, value: p.id }))]}
            value={values.destination}
            onChange={set("destination")}
            error={errors.destination}
          />
        </FormLayout.Group>
        <FormLayout.Group condensed>
          <TextField
            label="From (UTC)"
            type="date"
            value={values.from}
            onChange={set("from")}
            autoComplete="off"
            error={errors.from}
          />
          <TextField
            label="To (UTC)"
            type="date"
            value={values.to}
            onChange={set("to")}
            autoComplete="off"
            error={errors.to}
          />
        </FormLayout.Group>
        {errors.cursor && (
          <Text as="p" tone="critical">
            {errors.cursor}
          </Text>
        )}
        <InlineStack gap="200">
          <Button submit variant="primary" loading={busy}>
            Apply
          </Button>
          {anything && <Button onClick={() => onApply("")}>Clear filters</Button>}
        </InlineStack>
      </FormLayout>
    </Form>
  );
}
