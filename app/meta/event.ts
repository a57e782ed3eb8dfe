// The shape of one server event as Meta's Conversions API takes it.
import type { ActionSource } from "./action-source";
import type { MetaUserData } from "./user-data";

export interface MetaContent {
  id: string;
  quantity: number;
  item_price?: number;
}

export interface MetaCustomData {
  value?: number;
  currency?: string;
  content_ids?: string[];
  contents?: MetaContent[];
  content_type?: "product" | "product_group";
  num_items?: number;
  order_id?: string;
}

export interface MetaEvent {
  event_name: string;
  /** Unix seconds of the conversion itself, never of the sending. */
  event_time: number;
  /** Equal to the browser pixel's eventID for the same conversion, so Meta keeps one. */
  event_id: string;
  action_source: ActionSource;
  event_source_url?: string;
  user_data: MetaUserData;
  custom_data?: MetaCustomData;
  opt_out?: boolean;
  data_processing_options?: string[];
  data_processing_options_country?: number;
  data_processing_options_state?: number;
}
