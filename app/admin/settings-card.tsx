// Settings: how orders become events. While the form differs from what is saved, App Bridge's
// contextual save bar offers Save and Discard; the card's own Save button does the same.
import { useEffect, useMemo, useState } from "react";
import {
  Banner,
  BlockStack,
  Button,
  Card,
  Checkbox,
  Form,
  FormLayout,
  InlineStack,
  Select,
  Text,
} from "@shopify/polaris";
import type { StoredSettings } from "../events/settings";
import { SaveBar } from "./app-bridge";
import { CONTENT_ID_SOURCES, ORDER_SOURCES, PURCHASE_TRIGGERS, SOURCE_RULES, VALUE_MODES } from "./options";
import { useActionResult } from "./use-action-result";

export const SETTINGS_SAVE_BAR_ID = "event-settings-save-bar";

interface FormState {
  purchaseTrigger: string;
  valueMode: string;
  contentIdSource: string;
  sources: Record<string, string>;
  respectMarketingConsent: boolean;
  includeGiftCards: boolean;
  includeTips: boolean;
}

function formStateOf(view: StoredSettings): FormState {
  const s = view.settings;
  return {
    purchaseTrigger: s.purchaseTrigger,
    valueMode: s.valueMode,
    contentIdSource: s.contentIdSource,
    sources: Object.fromEntries(
      ORDER_SOURCES.map(({ value }) => [value, (s.sources as Record<string, string>)[value] ?? ""]),
    ),
    respectMarketingConsent: s.respectMarketingConsent,
    includeGiftCards: s.includeGiftCards,
    includeTips: s.includeTips,
  };
}

/** The form's fields as the action reads them (app/admin/actions.server.ts settingsFormSchema). */
export function settingsFormFields(state: FormState): Record<string, string> {
  return {
    intent: "save-settings",
    purchaseTrigger: state.purchaseTrigger,
    valueMode: state.valueMode,
    contentIdSource: state.contentIdSource,
    ...Object.fromEntries(ORDER_SOURCES.map(({ value }) => [`sources.${value}`, state.sources[value] ?? ""])),
    respectMarketingConsent: String(state.respectMarketingConsent),
    includeGiftCards: String(state.includeGiftCards),
    includeTips: String(state.includeTips),
  };
}

export function SettingsCard({ settings: view }: { settings: StoredSettings }) {
  const { fetcher, busy, fieldErrors, formError, message } = useActionResult("save-settings");
  const saved = useMemo(() => formStateOf(view), [view]);
  const [state, setState] = useState<FormState>(saved);
  // After a save the loader's settings come back: they are the new baseline.
  const savedKey = JSON.stringify(saved);
  useEffect(() => setState(saved), [savedKey]);
  const set =
    <K extends keyof FormState>(key: K) =>
    (value: FormState[K]) =>
      setState((current) => ({ ...current, [key]: value }));
  const dirty = JSON.stringify(state) !== savedKey;

  const submit = () => fetcher.submit(settingsFormFields(state), { method: "post" });

  return (
    <Card>
      <SaveBar
        id={SETTINGS_SAVE_BAR_ID}
        dirty={dirty}
        saving={busy}
        onSave={submit}
        onDiscard={() => setState(saved)}
      />
      <Form onSubmit={submit}>
        <BlockStack gap="400">
          <Text as="h2" variant="headingMd">
            Event settings
          </Text>
          {view.invalidStored && (
            <Banner tone="warning">
              The saved settings could not be read; the defaults below apply until you save.
            </Banner>
          )}
          {formError && <Banner tone="critical">{formError}</Banner>}
          <FormLayout>
            <Select
              label="Send the Purchase"
              name="purchaseTrigger"
              options={PURCHASE_TRIGGERS}
              value={state.purchaseTrigger}
              onChange={set("purchaseTrigger")}
              error={fieldErrors.purchaseTrigger}
            />
            <Select
              label="Purchase value"
              name="valueMode"
              options={VALUE_MODES}
              value={state.valueMode}
              onChange={set("valueMode")}
              error={fieldErrors.valueMode}
            />
            <Select
              label="Content IDs"
              name="contentIdSource"
              options={CONTENT_ID_SOURCES}
              value={state.contentIdSource}
              onChange={set("contentIdSource")}
              helpText="Match the IDs of your Meta catalogue."
              error={fieldErrors.contentIdSource}
            />
            {ORDER_SOURCES.map(({ value, label }) => (
              <Select
                key={value}
                label={label}
                name={`sources.${value}`}
                options={SOURCE_RULES}
                value={state.sources[value] ?? ""}
                onChange={(rule) =>
                  setState((current) => ({ ...current, sources: { ...current.sources, [value]: rule } }))
                }
                error={fieldErrors[`sources.${value}`]}
              />
            ))}
            <Checkbox
              label="Respect marketing consent"
              helpText="When the theme embed recorded that the buyer declined marketing, their order is not sent to Meta."
              checked={state.respectMarketingConsent}
              onChange={set("respectMarketingConsent")}
              error={fieldErrors.respectMarketingConsent}
            />
            <Checkbox
              label="Count gift card sales in the Purchase value"
              helpText="Off: a gift card counts when it is spent, not when it is sold; orders of gift cards only are not sent."
              checked={state.includeGiftCards}
              onChange={set("includeGiftCards")}
              error={fieldErrors.includeGiftCards}
            />
            <Checkbox
              label="Count tips in the Purchase value"
              checked={state.includeTips}
              onChange={set("includeTips")}
              error={fieldErrors.includeTips}
            />
          </FormLayout>
          <InlineStack gap="300" blockAlign="center">
            <Button submit loading={busy} variant={dirty ? "primary" : undefined}>
              Save settings
            </Button>
            {dirty && !busy && (
              <Text as="span" tone="subdued">
                Unsaved changes
              </Text>
            )}
            {message && !dirty && (
              <Text as="span" tone="success">
                {message}
              </Text>
            )}
          </InlineStack>
        </BlockStack>
      </Form>
    </Card>
  );
}
