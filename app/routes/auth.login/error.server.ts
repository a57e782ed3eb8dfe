// What the login form says when Shopify's login() refuses the shop domain.
import { LoginErrorType, type LoginError } from "@shopify/shopify-app-remix/server";

export interface LoginFormErrors {
  shop?: string;
}

export function loginErrorMessage(result: LoginError | undefined): LoginFormErrors {
  if (result?.shop === LoginErrorType.MissingShop) return { shop: "Enter your shop domain to log in" };
  if (result?.shop === LoginErrorType.InvalidShop)
    return { shop: "Enter a valid shop domain, like my-shop.myshopify.com" };
  return {};
}
