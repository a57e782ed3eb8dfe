// The page's choice lists are written out (the browser bundle must not carry zod); they must
// match the settings schema's enums exactly.
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, shopEventSettingsSchema } from "../events/settings";
import { ACTION_SOURCES } from "../meta/action-source";
import { settingsFormSchema } from "./actions.server";
import {
  CONTENT_ID_SOURCES,
  META_API_VERSIONS,
  ORDER_SOURCES,
  PURCHASE_TRIGGERS,
  SOURCE_RULES,
  VALUE_MODES,
} from "./options";

const values = (choices: Array<{ value: string }>) => choices.map((c) => c.value).sort();

describe("admin options", () => {
  it("offer exactly the values the settings schema takes", () => {
    const shape = shopEventSettingsSchema.shape;
    expect(values(PURCHASE_TRIGGERS)).toEqual([...shape.purchaseTrigger.unwrap().options].sort());
    expect(values(VALUE_MODES)).toEqual([...shape.valueMode.unwrap().options].sort());
    expect(values(CONTENT_ID_SOURCES)).toEqual([...shape.contentIdSource.unwrap().options].sort());
    expect(values(SOURCE_RULES)).toEqual([...ACTION_SOURCES, "skip"].sort());
    expect(values(ORDER_SOURCES)).toEqual(Object.keys(DEFAULT_SETTINGS.sources).sort());
    expect(values(SOURCE_RULES)).toEqual([...settingsFormSchema.shape["sources.web"].options].sort());
  });

  it("offer the default API version first", async () => {
    const { DEFAULT_API_VERSION } = await import("../meta/api-version");
    expect(META_API_VERSIONS[0]).toBe(DEFAULT_API_VERSION);
  });
});
