// Shopify's `orders` connection as an Admin GraphQL handler for tests (adminStandIn's `handle`, or
// a stubbed fetch): the `created_at:>=` filter of its query variable, oldest first or newest first
// (`reverse: true`), pages of the query's `first` by cursor; abandonedCheckouts answers none.
export function ordersConnection(orders: () => ReadonlyArray<Record<string, unknown>>) {
  return (query: string, variables: Record<string, unknown>) => {
    if (/abandonedCheckouts\(/.test(query))
      return { data: { abandonedCheckouts: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } } };
    const since = /created_at:>='([^']+)'/.exec(String(variables.query))?.[1] ?? "";
    const first = Number(/orders\(first: (\d+)/.exec(query)?.[1] ?? 50);
    const all = orders()
      .filter((o) => Date.parse(String(o.createdAt)) >= Date.parse(since || "1970-01-01T00:00:00Z"))
      .sort((x, y) => String(x.createdAt).localeCompare(String(y.createdAt)));
    if (/reverse: true/.test(query)) all.reverse();
    const start = variables.after ? Number(variables.after) : 0;
    const nodes = all.slice(start, start + first);
    const more = start + first < all.length;
    return {
      data: { orders: { pageInfo: { hasNextPage: more, endCursor: more ? String(start + first) : null }, nodes } },
    };
  };
}
