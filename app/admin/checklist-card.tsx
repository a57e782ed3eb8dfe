// Overview: the onboarding checklist (./checklist.ts), with its progress and each step's next action.
import { Badge, BlockStack, Button, Card, InlineStack, ProgressBar, Text } from "@shopify/polaris";
import type { Checklist } from "./checklist";

export function ChecklistCard({ checklist }: { checklist: Checklist }) {
  const { steps, done, total, complete } = checklist;
  return (
    <Card>
      <BlockStack gap="400">
        <BlockStack gap="200">
          <InlineStack align="space-between" blockAlign="center" gap="200">
            <Text as="h2" variant="headingMd">
              {complete ? "Setup complete" : "Set up CAPI Relay"}
            </Text>
            <Text as="span" tone="subdued">
              {`${done} of ${total} done`}
            </Text>
          </InlineStack>
          <ProgressBar
            progress={(done / total) * 100}
            size="small"
            tone="primary"
            ariaLabelledBy="onboarding-progress"
          />
          <span id="onboarding-progress" hidden>
            {`Setup: ${done} of ${total} steps done`}
          </span>
        </BlockStack>
        <BlockStack as="ol" gap="400">
          {steps.map((step, i) => (
            <BlockStack as="li" key={step.id} gap="100">
              <InlineStack gap="200" blockAlign="center">
                <Text as="h3" variant="headingSm">
                  {`${i + 1}. ${step.title}`}
                </Text>
                {step.done ? <Badge tone="success">Done</Badge> : <Badge>To do</Badge>}
              </InlineStack>
              <Text as="p" tone={step.done ? "subdued" : undefined}>
                {step.detail}
              </Text>
              {step.action && (
                <div>
                  <Button url={step.action.url} target={step.action.external ? "_top" : undefined} size="slim">
                    {step.action.label}
                  </Button>
                </div>
              )}
            </BlockStack>
          ))}
        </BlockStack>
      </BlockStack>
    </Card>
  );
}
