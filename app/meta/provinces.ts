// US states (with DC, the territories, the freely associated states and the armed forces
// "states" of military mail, as Shopify lists them) and Canadian provinces and territories, by
// name, for addresses that carry a province name but no province_code. Meta wants the 2-letter
// code for these two countries. Canadian names also in French, as Québec buyers write them.
export const PROVINCE_NAMES: Record<"us" | "ca", Array<[name: string, code: string]>> = {
  us: [
    ["Alabama", "al"], ["Alaska", "ak"], ["Arizona", "az"], ["Arkansas", "ar"], ["California", "ca"],
    ["Colorado", "co"], ["Connecticut", "ct"], ["Delaware", "de"], ["Florida", "fl"], ["Georgia", "ga"],
    ["Hawaii", "hi"], ["Idaho", "id"], ["Illinois", "il"], ["Indiana", "in"], ["Iowa", "ia"],
    ["Kansas", "ks"], ["Kentucky", "ky"], ["Louisiana", "la"], ["Maine", "me"], ["Maryland", "md"],
    ["Massachusetts", "ma"], ["Michigan", "mi"], ["Minnesota", "mn"], ["Mississippi", "ms"], ["Missouri", "mo"],
    ["Montana", "mt"], ["Nebraska", "ne"], ["Nevada", "nv"], ["New Hampshire", "nh"], ["New Jersey", "nj"],
    ["New Mexico", "nm"], ["New York", "ny"], ["North Carolina", "nc"], ["North Dakota", "nd"], ["Ohio", "oh"],
    ["Oklahoma", "ok"], ["Oregon", "or"], ["Pennsylvania", "pa"], ["Rhode Island", "ri"], ["South Carolina", "sc"],
    ["South Dakota", "sd"], ["Tennessee", "tn"], ["Texas", "tx"], ["Utah", "ut"], ["Vermont", "vt"],
    ["Virginia", "va"], ["Washington", "wa"], ["West Virginia", "wv"], ["Wisconsin", "wi"], ["Wyoming", "wy"],
    ["District of Columbia", "dc"], ["Washington DC", "dc"], ["Washington D.C.", "dc"],
    ["American Samoa", "as"], ["Guam", "gu"], ["Northern Mariana Islands", "mp"], ["Puerto Rico", "pr"],
    ["U.S. Virgin Islands", "vi"], ["US Virgin Islands", "vi"], ["United States Virgin Islands", "vi"], ["Virgin Islands", "vi"],
    ["U.S. Minor Outlying Islands", "um"], ["United States Minor Outlying Islands", "um"],
    ["Federated States of Micronesia", "fm"], ["Micronesia", "fm"], ["Marshall Islands", "mh"], ["Palau", "pw"],
    ["Armed Forces Americas", "aa"], ["Armed Forces Europe", "ae"], ["Armed Forces Africa", "ae"],
    ["Armed Forces Canada", "ae"], ["Armed Forces Middle East", "ae"], ["Armed Forces Pacific", "ap"],
  ],
  ca: [
    ["Alberta", "ab"], ["British Columbia", "bc"], ["Colombie-Britannique", "bc"], ["Manitoba", "mb"],
    ["New Brunswick", "nb"], ["Nouveau-Brunswick", "nb"],
    ["Newfoundland and Labrador", "nl"], ["Newfoundland & Labrador", "nl"], ["Newfoundland", "nl"], ["Terre-Neuve-et-Labrador", "nl"],
    ["Nova Scotia", "ns"], ["Nouvelle-Écosse", "ns"], ["Northwest Territories", "nt"], ["Territoires du Nord-Ouest", "nt"],
    ["Nunavut", "nu"], ["Ontario", "on"], ["Prince Edward Island", "pe"], ["Île-du-Prince-Édouard", "pe"],
    ["Quebec", "qc"], ["Saskatchewan", "sk"], ["Yukon", "yt"], ["Yukon Territory", "yt"],
  ],
};
