// One Admin GraphQL call, as the worker (reconciliation) and the admin page (web pixel) make
// it. The caller authenticates; these functions only see JSON. Shopify answers a refused
// operation (a missing access scope, throttling) with top-level `errors` instead of `data`:
// they become an AdminGraphqlError that says what Shopify said, never a schema mismatch.
import { z } from "zod";

/** Runs one Admin GraphQL operation for a shop (authenticated by the caller) and returns its JSON body. */
export type AdminGraphql = (query: string, variables: Record<string, unknown>) => Promise<unknown>;

const graphqlErrorSchema = z.object({
  message: z.string(),
  extensions: z.object({ code: z.string().nullish() }).loose().nullish(),
});
export type GraphqlErrorEntry = z.infer<typeof graphqlErrorSchema>;

const topLevelErrorsSchema = z.object({ errors: z.array(graphqlErrorSchema).min(1) });

/** Shopify refused the whole operation: ACCESS_DENIED (missing scope), THROTTLED, ... */
export class AdminGraphqlError extends Error {
  readonly codes: string[];
  constructor(readonly errors: GraphqlErrorEntry[]) {
    super(errors.map((e) => e.message).join("; "));
    this.name = "AdminGraphqlError";
    this.codes = errors.map((e) => e.extensions?.code ?? "").filter(Boolean);
  }
}

/** The answer validated with `schema`; top-level errors throw an AdminGraphqlError instead. */
export function graphqlData<T>(answer: unknown, schema: z.ZodType<T>): T {
  const refused = topLevelErrorsSchema.safeParse(answer);
  if (refused.success) throw new AdminGraphqlError(refused.data.errors);
  return schema.parse(answer);
}

const connectionPageSchema = z.object({
  pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullish() }),
  nodes: z.array(z.unknown()),
});

/**
 * Every page of the connection `field` that `query` (which takes `$after`) selects, as the
 * nodes of each page, still unvalidated: one unreadable node must not hide its neighbours.
 */
export async function* connectionPages(
  graphql: AdminGraphql,
  query: string,
  field: string,
  variables: Record<string, unknown>,
): AsyncGenerator<unknown[]> {
  const schema = z.object({ data: z.object({ [field]: connectionPageSchema }) });
  let after: string | null | undefined;
  do {
    const page = graphqlData(await graphql(query, { ...variables, after }), schema).data[field]!;
    yield page.nodes;
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : undefined;
  } while (after);
}

/** The part of `authenticate.admin(...).admin` (and `unauthenticated.admin`) used here. */
export interface RemixAdminClient {
  graphql(query: string, options?: { variables?: Record<string, unknown> }): Promise<Response>;
}

/**
 * AdminGraphql over the Remix package's client. That client throws top-level GraphQL errors
 * (GraphqlQueryError, whose body keeps them); here they come back as `{ errors }`, the shape
 * Shopify sent, so callers handle one shape. Anything else (network, a thrown Response for a
 * 401) propagates.
 */
export function adminGraphqlOf(admin: RemixAdminClient): AdminGraphql {
  return async (query, variables) => {
    try {
      return await (await admin.graphql(query, { variables })).json();
    } catch (error) {
      const errors = (error as { body?: { errors?: { graphQLErrors?: unknown } } } | null)?.body?.errors?.graphQLErrors;
      if (Array.isArray(errors) && errors.length > 0) return { errors };
      throw error;
    }
  };
}
