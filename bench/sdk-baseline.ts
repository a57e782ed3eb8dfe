// The baseline: what an integrator writes with Meta's own Node SDK (facebook-nodejs-business-sdk)
// for the same Shopify order. The SDK's setters only store values; `ServerEvent.normalize()`
// (which `EventRequest.execute()` calls before sending) normalises and hashes user_data
// (UserData.normalize -> ServerSideUtils.normalizeAndHash, js-sha256) and checks the currency,
// so that is what is timed here, without the HTTP layer. The SDK throws on values it cannot
// normalise (an email with a non-ASCII local part, a too-short phone): the caller catches and
// counts those, as an integrator has to.
import bizSdk from "facebook-nodejs-business-sdk";

const { ServerEvent, UserData, CustomData, Content } = bizSdk as {
  ServerEvent: new () => any;
  UserData: new () => any;
  CustomData: new () => any;
  Content: new () => any;
};

type Json = Record<string, any>;

/** Non-blank strings only: the SDK hashes whatever it is given, "" and null included. */
function present(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) if (typeof v === "string" && v.trim() !== "") out.push(v);
  return out;
}

/** Only non-empty lists: an empty one would still put `"em": []` in the event. */
function setAll(userData: any, setter: string, values: string[]): void {
  if (values.length > 0) userData[setter](values);
}

function attribute(order: Json, name: string): string | undefined {
  const found = (order.note_attributes as Json[] | null | undefined)?.find((a) => a.name === name)?.value;
  return typeof found === "string" && found !== "" ? found : undefined;
}

/** One order to the event object the SDK would put in `data: [...]`. Throws where the SDK throws. */
export function sdkEvent(order: Json): Json {
  const customer: Json | null | undefined = order.customer;
  const addresses: Json[] = [order.billing_address, order.shipping_address].filter(Boolean);
  const placedMs = Date.parse(order.processed_at ?? order.created_at);

  const userData = new UserData();
  setAll(userData, "setEmails", present([order.email, order.contact_email, customer?.email]));
  setAll(userData, "setPhones", present([order.phone, customer?.phone, ...addresses.map((a) => a.phone)]));
  setAll(userData, "setFirstNames", present([customer?.first_name, ...addresses.map((a) => a.first_name)]));
  setAll(userData, "setLastNames", present([customer?.last_name, ...addresses.map((a) => a.last_name)]));
  setAll(userData, "setCities", present(addresses.map((a) => a.city)));
  setAll(userData, "setStates", present(addresses.map((a) => a.province_code)));
  setAll(userData, "setZips", present(addresses.map((a) => a.zip)));
  setAll(userData, "setCountries", present(addresses.map((a) => a.country_code)));
  if (customer?.id != null) userData.setExternalIds([String(customer.id)]);
  const browser: Json | null | undefined = order.client_details;
  if (browser?.browser_ip) userData.setClientIpAddress(browser.browser_ip);
  if (browser?.user_agent) userData.setClientUserAgent(browser.user_agent);
  const fbp = attribute(order, "_fbp");
  if (fbp) userData.setFbp(fbp);
  let fbc = attribute(order, "_fbc");
  if (!fbc) {
    const clickId = /[?&]fbclid=([^&#]+)/.exec(order.landing_site ?? "")?.[1];
    if (clickId) fbc = `fb.1.${placedMs}.${clickId}`;
  }
  if (fbc) userData.setFbc(fbc);

  const money: Json | undefined = order.total_price_set?.presentment_money;
  const lineItems: Json[] = order.line_items ?? [];
  const contents = lineItems.map((li) =>
    new Content()
      .setId(String(li.variant_id))
      .setQuantity(li.quantity)
      .setItemPrice(Number(li.price_set?.presentment_money?.amount ?? li.price)),
  );
  const customData = new CustomData()
    .setValue(Number(money?.amount ?? order.total_price))
    .setCurrency(money?.currency_code ?? order.currency)
    .setContents(contents)
    .setContentIds(lineItems.map((li) => String(li.variant_id)))
    .setContentType("product")
    .setNumItems(lineItems.reduce((n, li) => n + li.quantity, 0))
    .setOrderId(String(order.id));

  const event = new ServerEvent()
    .setEventName("Purchase")
    .setEventTime(Math.floor(placedMs / 1000))
    .setEventId(String(order.id))
    .setUserData(userData)
    .setCustomData(customData)
    // The order status URL carries an access key in its query: keep the page only.
    .setEventSourceUrl(String(order.order_status_url).split("?")[0])
    .setActionSource("website");
  if (attribute(order, "_capi_consent")?.includes("sale_of_data=0")) {
    event.setDataProcessingOptions(["LDU"]).setDataProcessingOptionsCountry(0).setDataProcessingOptionsState(0);
  }
  return event.normalize();
}
