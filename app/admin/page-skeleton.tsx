// What a page shows while the next one loads (the loaders render on the server: this covers
// client navigation between the app's pages).
import { BlockStack, Card, Layout, SkeletonBodyText, SkeletonDisplayText, SkeletonPage } from "@shopify/polaris";

export function PageSkeleton() {
  return (
    <SkeletonPage>
      <Layout>
        <Layout.Section>
          <BlockStack gap="500">
            {[0, 1].map((i) => (
              <Card key={i}>
                <BlockStack gap="400">
                  <SkeletonDisplayText size="small" />
                  <SkeletonBodyText lines={4} />
                </BlockStack>
              </Card>
            ))}
          </BlockStack>
        </Layout.Section>
      </Layout>
    </SkeletonPage>
  );
}
