// App Bridge's pieces the admin pages use, through its web components and the `shopify` global
// the App Bridge script defines (@shopify/app-bridge-react is not a dependency): the title bar,
// the contextual save bar and toasts. Outside the Shopify admin (no App Bridge), toasts answer
// false so the page shows its message itself, and the save bar's buttons stay hidden (the form's
// own Save button remains).
import { useEffect, type ReactNode } from "react";

declare module "react" {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace JSX {
    interface IntrinsicElements {
      "ui-nav-menu": React.DetailedHTMLProps<React.HTMLAttributes<HTMLElement>, HTMLElement>;
      "ui-title-bar": React.DetailedHTMLProps<React.HTMLAttributes<HTMLElement>, HTMLElement> & { title?: string };
      "ui-save-bar": React.DetailedHTMLProps<React.HTMLAttributes<HTMLElement>, HTMLElement>;
    }
  }
}

interface ShopifyGlobal {
  toast?: { show(message: string, options?: { isError?: boolean; duration?: number }): void };
  saveBar?: { show(id: string): Promise<void> | void; hide(id: string): Promise<void> | void };
}

function appBridge(): ShopifyGlobal | undefined {
  return typeof window === "undefined" ? undefined : (window as unknown as { shopify?: ShopifyGlobal }).shopify;
}

/** Shows `message` in an App Bridge toast; false when App Bridge is not there to show it. */
export function showToast(message: string, options: { isError?: boolean } = {}): boolean {
  const toast = appBridge()?.toast;
  if (!toast) return false;
  toast.show(message, { ...options, duration: 5000 });
  return true;
}

/** App Bridge's components hold no visible content of their own in the page (App Bridge draws them in the admin). */
export const APP_BRIDGE_CSS = "ui-nav-menu, ui-title-bar, ui-save-bar { display: none; }";

/** The admin's title bar above the app: the page's title, and the same as a heading for screen readers in the frame. */
export function TitleBar({ title }: { title: string }) {
  return <ui-title-bar title={title} />;
}

/**
 * The contextual save bar while `dirty`: Save and Discard in the admin's top bar. The buttons'
 * clicks come back to these elements, so plain React handlers answer them.
 */
export function SaveBar({
  id,
  dirty,
  saving,
  onSave,
  onDiscard,
}: {
  id: string;
  dirty: boolean;
  saving: boolean;
  onSave: () => void;
  onDiscard: () => void;
}) {
  useEffect(() => {
    const saveBar = appBridge()?.saveBar;
    if (!saveBar) return;
    void (dirty ? saveBar.show(id) : saveBar.hide(id));
  }, [id, dirty]);
  useEffect(() => () => void appBridge()?.saveBar?.hide(id), [id]);
  // App Bridge's own attributes (no labels: App Bridge writes Save and Discard in the admin's words).
  const primary: Record<string, string> = { variant: "primary", ...(saving ? { loading: "" } : {}) };
  const buttons: ReactNode = (
    <>
      <button type="button" {...primary} onClick={onSave} />
      <button type="button" onClick={onDiscard} />
    </>
  );
  return <ui-save-bar id={id}>{buttons}</ui-save-bar>;
}
